use super::*;

#[test]
fn reads_ports_and_ranges_with_blanks() {
    let set: PortSet = " 25, 8000-8002 ,,3306".parse().unwrap();
    assert!(set.contains(25));
    assert!(set.contains(8001));
    assert!(set.contains(3306));
    assert!(!set.contains(8003));
    assert_eq!(set.to_string(), "25,8000-8002,3306");
}

#[test]
fn linkerd_defaults_include_databases_not_http() {
    let set = PortSet::linkerd_default_opaque();
    for port in [25, 587, 3306, 4444, 5432, 6379, 9300, 11211] {
        assert!(set.contains(port), "{port}");
    }
    assert!(!set.contains(80));
    assert!(!set.contains(8080));
}

#[test]
fn names_the_entry_at_fault() {
    assert_eq!(
        "80,http".parse::<PortSet>(),
        Err(InvalidPorts::NotAPort {
            entry: "http".into()
        })
    );
    assert_eq!(
        "0".parse::<PortSet>(),
        Err(InvalidPorts::NotAPort { entry: "0".into() })
    );
    assert_eq!(
        "90-80".parse::<PortSet>(),
        Err(InvalidPorts::Reversed {
            entry: "90-80".into()
        })
    );
}
