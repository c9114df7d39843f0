//! Buffers that cross to JS without a copy: a `Vec` handed over as an
//! external Buffer (with V8 told of its memory), and Node Buffers held by
//! reference while the parser fills them (whole, or a region of a slab).

use napi::bindgen_prelude::*;

use crate::proto::parser::LentBuffer;
use std::rc::Rc;

/// Hands a Vec to JS as a Buffer without copying. V8 is told about the
/// memory (and told again when the Buffer is collected): without that it does
/// not see large messages pile up, collects too late, and every new message
/// lands on fresh, page-faulting memory.
pub(crate) fn external_buffer(env: &Env, bytes: Vec<u8>) -> Result<BufferSlice<'_>> {
    if bytes.is_empty() {
        return BufferSlice::copy_from(env, []);
    }
    let mut bytes = bytes;
    let (data, len, capacity) = (bytes.as_mut_ptr(), bytes.len(), bytes.capacity() as i64);
    env.adjust_external_memory(capacity)?;
    // SAFETY: moving the Vec into the finalizer does not move its heap buffer,
    // which stays alive until the finalizer drops it.
    unsafe {
        BufferSlice::from_external(env, data, len, bytes, |env, bytes: Vec<u8>| {
            let _ = env.adjust_external_memory(-(bytes.capacity() as i64));
            drop(bytes);
        })
    }
}

/// A Node Buffer held across parse calls: on the JS heap, so V8 frees it with
/// the rest of the garbage (no finalizer, no external memory), kept alive by
/// a reference until it is handed over or the parser drops it.
pub struct JsBuffer {
    env: napi::sys::napi_env,
    reference: napi::sys::napi_ref,
    data: *mut u8,
    pub(crate) len: usize,
}

impl JsBuffer {
    pub(crate) fn new(env: &Env, len: usize) -> Result<Self> {
        let env = env.raw();
        let mut data = std::ptr::null_mut();
        let mut value = std::ptr::null_mut();
        let mut reference = std::ptr::null_mut();
        // SAFETY: plain N-API calls on the JS thread with valid out-pointers.
        unsafe {
            check(napi::sys::napi_create_buffer(env, len, &mut data, &mut value))?;
            check(napi::sys::napi_create_reference(env, value, 1, &mut reference))?;
        }
        Ok(JsBuffer { env, reference, data: data.cast(), len })
    }

    /// The Buffer, to hand to JS (the reference goes when `self` drops).
    pub(crate) fn value(&self) -> Result<napi::sys::napi_value> {
        let mut value = std::ptr::null_mut();
        // SAFETY: the reference is alive until drop.
        unsafe { check(napi::sys::napi_get_reference_value(self.env, self.reference, &mut value))? };
        Ok(value)
    }

    /// Bytes `[offset, offset + len)` of the Buffer (empty if out of bounds).
    ///
    /// # Safety
    /// The caller is the only holder of that region: each region of a slab is
    /// lent to one message, and JS does not run during a parse call.
    #[allow(clippy::mut_from_ref)]
    unsafe fn region(&self, offset: usize, len: usize) -> &mut [u8] {
        if len == 0 || self.data.is_null() || offset.saturating_add(len) > self.len {
            return &mut [];
        }
        // SAFETY: inside the Buffer's backing store, kept alive by the reference.
        unsafe { std::slice::from_raw_parts_mut(self.data.add(offset), len) }
    }
}

fn check(status: napi::sys::napi_status) -> Result<()> {
    if status == napi::sys::Status::napi_ok {
        Ok(())
    } else {
        Err(super::internal_error(format_args!("N-API call failed with status {status}")))
    }
}

impl Drop for JsBuffer {
    fn drop(&mut self) {
        // SAFETY: runs on the JS thread (inside a parse call or the parser's finalizer).
        unsafe { napi::sys::napi_delete_reference(self.env, self.reference) };
    }
}

/// A message buffer lent to the parser: a Buffer of its own, or a region of a slab.
pub enum JsLent {
    Whole(JsBuffer),
    InSlab { slab: Rc<JsBuffer>, offset: usize, len: usize },
}

impl LentBuffer for JsLent {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: a lent buffer or slab region belongs to this message alone.
        match self {
            JsLent::Whole(buffer) => unsafe { buffer.region(0, buffer.len) },
            JsLent::InSlab { slab, offset, len } => unsafe { slab.region(*offset, *len) },
        }
    }
}
