fn main() {
    // Only the addon needs Node's link arguments; the pure core builds without them.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
}
