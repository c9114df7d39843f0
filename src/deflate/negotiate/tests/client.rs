use super::*;

fn config() -> DeflateConfig {
    DeflateConfig::default()
}

fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

fn rejected(header: &str, config: &DeflateConfig) -> String {
    accept_server_answer(header, config).unwrap_err().message
}

#[test]
fn default_offer_is_ws_default() {
    assert_eq!(client_offer(&config()).unwrap(), "permessage-deflate; client_max_window_bits");
}

#[test]
fn full_offer_in_order() {
    let config = DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(9),
        ..config()
    };
    assert_eq!(
        client_offer(&config).unwrap(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=9"
    );
}

#[test]
fn offer_checks_the_config() {
    let bad = DeflateConfig { server_max_window_bits: Some(16), ..config() };
    assert_eq!(client_offer(&bad).unwrap_err().field, SERVER_MAX_WINDOW_BITS);
}

#[test]
fn our_offer_is_what_our_server_accepts() {
    let offer_config = DeflateConfig {
        server_no_context_takeover: true,
        server_max_window_bits: Some(11),
        client_max_window_bits: Some(12),
        ..config()
    };
    let offer = client_offer(&offer_config).unwrap();
    let (server_params, response) = negotiate(&offer, &config()).unwrap().unwrap();
    let client_params = accept_server_answer(&response, &offer_config).unwrap();
    assert_eq!(client_params, server_params);
    assert_eq!(client_params, params(true, false, 11, 12));
}

#[test]
fn plain_response_means_defaults() {
    assert_eq!(accept_server_answer("permessage-deflate", &config()).unwrap(), params(false, false, 15, 15));
    assert_eq!(accept_server_answer("Permessage-Deflate ", &config()).unwrap(), params(false, false, 15, 15));
}

#[test]
fn server_may_restrict_and_reset() {
    let p = accept_server_answer(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=9; client_max_window_bits=\"10\"",
        &config(),
    )
    .unwrap();
    assert_eq!(p, params(true, true, 9, 10));
}

#[test]
fn our_own_settings_hold_when_the_server_omits_them() {
    let ours = DeflateConfig { client_no_context_takeover: true, client_max_window_bits: Some(11), ..config() };
    assert_eq!(accept_server_answer("permessage-deflate", &ours).unwrap(), params(false, true, 15, 11));
    let p = accept_server_answer("permessage-deflate; client_max_window_bits=8", &ours).unwrap();
    assert_eq!(p.client_max_window_bits, 8);
}

#[test]
fn offered_server_parameters_must_be_accepted() {
    let snct = DeflateConfig { server_no_context_takeover: true, ..config() };
    assert!(rejected("permessage-deflate", &snct).contains("server_no_context_takeover"));
    assert!(accept_server_answer("permessage-deflate; server_no_context_takeover", &snct).is_ok());

    let bits = DeflateConfig { server_max_window_bits: Some(10), ..config() };
    assert!(rejected("permessage-deflate", &bits).contains("server_max_window_bits=10"));
    assert!(rejected("permessage-deflate; server_max_window_bits=11", &bits).contains("over the 10"));
    let p = accept_server_answer("permessage-deflate; server_max_window_bits=8", &bits).unwrap();
    assert_eq!(p.server_max_window_bits, 8);
}

#[test]
fn client_window_over_the_offer_is_refused() {
    let bits = DeflateConfig { client_max_window_bits: Some(10), ..config() };
    assert!(rejected("permessage-deflate; client_max_window_bits=12", &bits).contains("over the 10"));
}

#[test]
fn invalid_responses_are_refused() {
    for (header, needle) in [
        ("", "names no extension"),
        (" , ", "names no extension"),
        ("x-foo", "\"x-foo\""),
        ("permessage-deflate, permessage-deflate", "several"),
        ("permessage-deflate, x-foo", "several"),
        ("permessage-deflate; foo", "unknown parameter \"foo\""),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", "twice"),
        ("permessage-deflate; client_no_context_takeover=1", "must not have a value"),
        ("permessage-deflate; client_max_window_bits", "invalid value for \"client_max_window_bits\": none"),
        ("permessage-deflate; server_max_window_bits", "invalid value"),
        ("permessage-deflate; server_max_window_bits=7", "\"7\""),
        ("permessage-deflate; client_max_window_bits=16", "\"16\""),
        ("permessage-deflate; client_max_window_bits=010", "\"010\""),
        ("permessage-deflate;", "invalid Sec-WebSocket-Extensions header"),
    ] {
        let message = rejected(header, &config());
        assert!(message.contains(needle), "{header:?}: {message}");
    }
}
