use super::*;
use crate::deflate::header::ExtensionParam;

fn param(name: &str, value: Option<&str>) -> ExtensionParam {
    ExtensionParam { name: name.into(), value: value.map(Into::into) }
}

fn accept(header: &str, config: &DeflateConfig) -> (DeflateParams, String) {
    negotiate(header, config).unwrap().unwrap()
}

fn default_params() -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    }
}

#[test]
fn parses_several_extensions_params_and_quotes() {
    let offers = parse_extensions(
        "permessage-deflate; client_max_window_bits, Foo ;a=1 ; B = \"x\\yz\"\t,, x-webkit-deflate-frame",
    )
    .unwrap();
    assert_eq!(
        offers,
        vec![
            Offer { name: "permessage-deflate".into(), params: vec![param("client_max_window_bits", None)] },
            Offer { name: "foo".into(), params: vec![param("a", Some("1")), param("b", Some("xyz"))] },
            Offer { name: "x-webkit-deflate-frame".into(), params: vec![] },
        ]
    );
}

#[test]
fn empty_and_blank_headers_have_no_offers() {
    assert_eq!(parse_extensions("").unwrap(), vec![]);
    assert_eq!(parse_extensions(" , ,").unwrap(), vec![]);
}

#[test]
fn syntax_errors() {
    for (header, position) in [
        (";a", 0),
        ("a;", 2),
        ("a;;b", 2),
        ("a b", 2),
        ("a; b=", 5),
        ("a; b=\"1", 5),
        ("a; b=\"\"", 5),
        ("a; b=\"1 2\"", 7),
        ("a; b=1 2", 7),
        ("a; b=@", 5),
        ("a=1", 1),
        ("pérmessage", 1),
    ] {
        let err = parse_extensions(header).unwrap_err();
        assert_eq!(err.position, position, "{header}: {err}");
    }
}

#[test]
fn syntax_error_fails_the_handshake_with_400() {
    let err = negotiate("permessage-deflate; a=\"", &DeflateConfig::default()).unwrap_err();
    assert_eq!(err.status(), 400);
    let handshake: crate::http::server::HandshakeViolation = err.into();
    assert_eq!(handshake.status(), 400);
}

#[test]
fn plain_offer_is_accepted_as_is() {
    let (params, response) = accept("permessage-deflate", &DeflateConfig::default());
    assert_eq!(params, default_params());
    assert_eq!(response, "permessage-deflate");
}

#[test]
fn names_are_case_insensitive() {
    let (params, response) = accept("PerMessage-Deflate; Server_No_Context_Takeover", &DeflateConfig::default());
    assert!(params.server_no_context_takeover);
    assert_eq!(response, "permessage-deflate; server_no_context_takeover");
}

#[test]
fn other_extensions_are_ignored() {
    assert_eq!(negotiate("x-foo; bar=1", &DeflateConfig::default()).unwrap(), None);
    assert!(negotiate("x-foo, permessage-deflate", &DeflateConfig::default()).unwrap().is_some());
}

#[test]
fn bad_offers_are_declined_and_the_next_one_taken() {
    for bad in [
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"x\"",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=09",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=1; client_max_window_bits=10",
    ] {
        assert_eq!(negotiate(bad, &DeflateConfig::default()).unwrap(), None, "{bad}");
        let header = format!("{bad}, permessage-deflate; client_no_context_takeover");
        let (params, _) = accept(&header, &DeflateConfig::default());
        assert!(params.client_no_context_takeover, "{header}");
    }
}

#[test]
fn quoted_window_bits_are_accepted() {
    let (params, response) = accept("permessage-deflate; server_max_window_bits=\"10\"", &DeflateConfig::default());
    assert_eq!(params.server_max_window_bits, 10);
    assert_eq!(response, "permessage-deflate; server_max_window_bits=10");
}

#[test]
fn server_window_is_the_smaller_of_offer_and_config() {
    let config = DeflateConfig { server_max_window_bits: Some(12), ..DeflateConfig::default() };
    let (params, response) = accept("permessage-deflate; server_max_window_bits=10", &config);
    assert_eq!(params.server_max_window_bits, 10);
    assert_eq!(response, "permessage-deflate; server_max_window_bits=10");

    let (params, _) = accept("permessage-deflate; server_max_window_bits=14", &config);
    assert_eq!(params.server_max_window_bits, 12);

    // Not offered: we may still announce our own limit.
    let (params, response) = accept("permessage-deflate", &config);
    assert_eq!(params.server_max_window_bits, 12);
    assert_eq!(response, "permessage-deflate; server_max_window_bits=12");
}

#[test]
fn eight_bit_server_window_is_accepted() {
    let (params, _) = accept("permessage-deflate; server_max_window_bits=8", &DeflateConfig::default());
    assert_eq!(params.server_max_window_bits, 8);
}

#[test]
fn client_window_rules() {
    let none = DeflateConfig::default();
    let ten = DeflateConfig { client_max_window_bits: Some(10), ..DeflateConfig::default() };

    // Valueless, nothing configured: not echoed, client may use 15.
    let (params, response) = accept("permessage-deflate; client_max_window_bits", &none);
    assert_eq!((params.client_max_window_bits, response.as_str()), (15, "permessage-deflate"));
    // Valueless, configured: our value.
    let (params, response) = accept("permessage-deflate; client_max_window_bits", &ten);
    assert_eq!(params.client_max_window_bits, 10);
    assert_eq!(response, "permessage-deflate; client_max_window_bits=10");
    // Valued: echoed, or the smaller of it and ours.
    let (params, _) = accept("permessage-deflate; client_max_window_bits=12", &none);
    assert_eq!(params.client_max_window_bits, 12);
    let (params, _) = accept("permessage-deflate; client_max_window_bits=9", &ten);
    assert_eq!(params.client_max_window_bits, 9);
    let (params, _) = accept("permessage-deflate; client_max_window_bits=12", &ten);
    assert_eq!(params.client_max_window_bits, 10);
    // Not offered but required by config: declined, next offer taken.
    assert_eq!(negotiate("permessage-deflate", &ten).unwrap(), None);
    let (params, _) =
        accept("permessage-deflate; server_max_window_bits=9, permessage-deflate; client_max_window_bits", &ten);
    assert_eq!((params.server_max_window_bits, params.client_max_window_bits), (15, 10));
}

#[test]
fn context_takeover_flags_from_offer_or_config() {
    let config = DeflateConfig { server_no_context_takeover: true, ..DeflateConfig::default() };
    let (params, response) = accept("permessage-deflate; client_no_context_takeover", &config);
    assert!(params.server_no_context_takeover && params.client_no_context_takeover);
    assert_eq!(response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");

    let config = DeflateConfig { client_no_context_takeover: true, ..DeflateConfig::default() };
    let (params, response) = accept("permessage-deflate", &config);
    assert!(!params.server_no_context_takeover && params.client_no_context_takeover);
    assert_eq!(response, "permessage-deflate; client_no_context_takeover");
}

#[test]
fn full_response_order() {
    let config = DeflateConfig {
        server_no_context_takeover: true,
        client_max_window_bits: Some(10),
        server_max_window_bits: Some(11),
        ..DeflateConfig::default()
    };
    let (_, response) = accept("permessage-deflate; client_max_window_bits; client_no_context_takeover", &config);
    assert_eq!(
        response,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=11; client_max_window_bits=10"
    );
}

#[test]
fn config_validation_names_the_field() {
    assert_eq!(DeflateConfig::default().validate(), Ok(()));
    let cases = [
        (DeflateConfig { server_max_window_bits: Some(7), ..DeflateConfig::default() }, SERVER_MAX_WINDOW_BITS),
        (DeflateConfig { client_max_window_bits: Some(16), ..DeflateConfig::default() }, CLIENT_MAX_WINDOW_BITS),
        (DeflateConfig { level: 10, ..DeflateConfig::default() }, LEVEL),
        (DeflateConfig { mem_level: 0, ..DeflateConfig::default() }, MEM_LEVEL),
        (DeflateConfig { mem_level: 10, ..DeflateConfig::default() }, MEM_LEVEL),
    ];
    assert_eq!(window_bits_option(SERVER_MAX_WINDOW_BITS, 300).unwrap_err().message, "perMessageDeflate.serverMaxWindowBits: must be between 8 and 15, got 300");
    assert_eq!(window_bits_option(SERVER_MAX_WINDOW_BITS, 9), Ok(9));
    assert_eq!(mem_level_option(MEM_LEVEL, 256).unwrap_err().message, "perMessageDeflate.memLevel: must be between 1 and 9, got 256");
    for (config, field) in cases {
        let err = config.validate().unwrap_err();
        assert_eq!(err.field, field);
        assert!(err.message.starts_with(field), "{}", err.message);
        let err = negotiate("permessage-deflate", &config).unwrap_err();
        assert_eq!(err.status(), 500);
    }
}
