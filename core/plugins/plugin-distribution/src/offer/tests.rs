use super::*;

fn plugin(kind: PluginKind, version: &str, wasm: &'static [u8]) -> OfferedPlugin {
    OfferedPlugin {
        kind,
        version: version.to_string(),
        origin: "configmap linkerd/strait-plugins".to_string(),
        wasm: Bytes::from_static(wasm),
    }
}

fn offered(offer: &PluginOffer, plugin: OfferedPlugin) -> bool {
    match offer.offer(plugin) {
        Ok(changed) => changed,
        Err(e) => panic!("offer refused: {e}"),
    }
}

#[test]
fn nothing_is_offered_at_first() {
    let offer = PluginOffer::new();
    for kind in PluginKind::ALL {
        assert_eq!(offer.current(kind), None);
    }
}

#[test]
fn an_offer_carries_the_digest_of_its_bytes() {
    let offer = PluginOffer::new();
    assert!(offered(&offer, plugin(PluginKind::Authz, "v1", b"abc")));
    let current = offer.current(PluginKind::Authz).expect("offered");
    assert_eq!(
        current,
        PluginUpdate {
            kind: "authz".to_string(),
            version: "v1".to_string(),
            digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string(),
            wasm: Bytes::from_static(b"abc"),
            origin: "configmap linkerd/strait-plugins".to_string(),
        }
    );
}

#[test]
fn an_unlabelled_plugin_is_versioned_by_its_short_digest() {
    let offer = PluginOffer::new();
    assert!(offered(&offer, plugin(PluginKind::Export, "", b"abc")));
    let current = offer.current(PluginKind::Export).expect("offered");
    assert_eq!(current.version, "ba7816bf8f01");
}

#[test]
fn an_identical_offer_changes_nothing() {
    let offer = PluginOffer::new();
    let mut watching = offer.subscribe(PluginKind::Authz);
    assert!(offered(&offer, plugin(PluginKind::Authz, "v1", b"one")));
    assert!(watching.has_changed().expect("open"));
    watching.mark_unchanged();

    assert!(!offered(&offer, plugin(PluginKind::Authz, "v1", b"one")));
    assert!(
        !watching.has_changed().expect("open"),
        "watchers were woken"
    );

    // The same bytes under a new label, or from elsewhere, are news.
    assert!(offered(
        &offer,
        plugin(PluginKind::Authz, "v1-relabelled", b"one")
    ));
    let mut moved = plugin(PluginKind::Authz, "v1-relabelled", b"one");
    moved.origin = "file /etc/strait/authz.wasm".to_string();
    assert!(offered(&offer, moved));
    // And different bytes under the same label certainly are.
    assert!(offered(
        &offer,
        plugin(PluginKind::Authz, "v1-relabelled", b"two")
    ));
    let current = offer.current(PluginKind::Authz).expect("offered");
    assert_eq!(current.wasm, Bytes::from_static(b"two"));
    assert_eq!(current.digest, plugin_digest(b"two"));
}

#[test]
fn kinds_are_offered_independently() {
    let offer = PluginOffer::new();
    let export = offer.subscribe(PluginKind::Export);
    assert!(offered(&offer, plugin(PluginKind::Authz, "a1", b"authz")));
    assert_eq!(offer.current(PluginKind::Export), None);
    assert!(!export.has_changed().expect("open"));

    assert!(offered(&offer, plugin(PluginKind::Export, "e1", b"export")));
    // The same bytes under another kind are a separate offer.
    assert!(offered(&offer, plugin(PluginKind::Export, "a1", b"authz")));
    assert!(export.has_changed().expect("open"));
    let authz = offer.current(PluginKind::Authz).expect("authz");
    let export = offer.current(PluginKind::Export).expect("export");
    assert_eq!(
        (authz.kind.as_str(), authz.version.as_str()),
        ("authz", "a1")
    );
    assert_eq!(export.kind, "export");
    assert_eq!(authz.digest, export.digest);
}

#[test]
fn clones_share_the_offer() {
    let offer = PluginOffer::new();
    let loader = offer.clone();
    assert!(offered(&loader, plugin(PluginKind::Authz, "v1", b"one")));
    assert_eq!(
        offer.current(PluginKind::Authz).map(|p| p.version),
        Some("v1".to_string())
    );
}

#[test]
fn a_plugin_too_large_to_send_is_refused_and_the_current_one_kept() {
    let offer = PluginOffer::new();
    assert!(offered(
        &offer,
        plugin(PluginKind::Authz, "small", b"small")
    ));

    let huge = Bytes::from(vec![0u8; MAX_PLUGIN_MESSAGE_BYTES]);
    let refused = offer.offer(OfferedPlugin {
        kind: PluginKind::Authz,
        version: "huge".to_string(),
        origin: "configmap linkerd/strait-plugins".to_string(),
        wasm: huge,
    });
    match refused {
        Err(OfferError::TooLarge {
            kind,
            size,
            encoded,
            limit,
            ..
        }) => {
            assert_eq!(kind, PluginKind::Authz);
            assert_eq!(size, MAX_PLUGIN_MESSAGE_BYTES);
            assert!(encoded > limit);
            assert_eq!(limit, MAX_PLUGIN_MESSAGE_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let current = offer.current(PluginKind::Authz).expect("kept");
    assert_eq!(current.version, "small");
}

#[test]
fn a_plugin_that_just_fits_is_offered() {
    let offer = PluginOffer::new();
    let labels = plugin(PluginKind::Authz, "fits", b"");
    // Field tags, lengths, digest and labels take some room; find how
    // much, then fill the rest with the plugin.
    let overhead = PluginUpdate {
        kind: "authz".to_string(),
        version: labels.version.clone(),
        digest: plugin_digest(b""),
        wasm: Bytes::new(),
        origin: labels.origin.clone(),
    }
    .encoded_len();
    // The wasm field's tag and length prefix (4 bytes for a length this
    // size) come on top of the empty update.
    let size = MAX_PLUGIN_MESSAGE_BYTES - overhead - 5;
    let wasm = Bytes::from(vec![7u8; size]);
    let fits = OfferedPlugin { wasm, ..labels };
    assert_eq!(offer.offer(fits.clone()), Ok(true));
    let current = offer.current(PluginKind::Authz).expect("offered");
    assert_eq!(current.encoded_len(), MAX_PLUGIN_MESSAGE_BYTES);

    let mut over = fits;
    over.version = "fits!".to_string();
    assert!(matches!(
        offer.offer(over),
        Err(OfferError::TooLarge { .. })
    ));
}

#[test]
fn an_empty_plugin_is_refused() {
    let offer = PluginOffer::new();
    assert_eq!(
        offer.offer(plugin(PluginKind::Export, "v1", b"")),
        Err(OfferError::Empty {
            kind: PluginKind::Export,
            origin: "configmap linkerd/strait-plugins".to_string(),
        })
    );
    assert_eq!(offer.current(PluginKind::Export), None);
}

#[test]
fn errors_say_what_was_refused() {
    let offer = PluginOffer::new();
    let error = offer
        .offer(OfferedPlugin {
            kind: PluginKind::Authz,
            version: String::new(),
            origin: "configmap linkerd/strait-plugins".to_string(),
            wasm: Bytes::from(vec![0u8; MAX_PLUGIN_MESSAGE_BYTES + 1]),
        })
        .expect_err("too large");
    let text = error.to_string();
    assert!(
        text.contains("authz plugin from configmap linkerd/strait-plugins"),
        "{text}"
    );
    assert!(
        text.contains(&(MAX_PLUGIN_MESSAGE_BYTES + 1).to_string()),
        "{text}"
    );
    assert!(
        text.contains(&MAX_PLUGIN_MESSAGE_BYTES.to_string()),
        "{text}"
    );
}
