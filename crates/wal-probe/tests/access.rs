//! Tests of what a probe learns about the source's publication and the probing role, against
//! objects created on the local PostgreSQL under names of their own and dropped afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{admin_execute, local_source, unique_name, Cleanup};
use rosetta_domain::{ports::WalProbe, PublicationName, RolePrivileges, Source, Text};
use rosetta_wal_probe::{PgWalProbe, ProbeSettings};

#[tokio::test]
async fn the_publication_exists_only_while_it_is_there() {
    let name = unique_name("publication");
    let _publication = Cleanup::new(format!("DROP PUBLICATION IF EXISTS {name}"));
    // A publication of no table is allowed whatever the wal_level.
    admin_execute(&format!("CREATE PUBLICATION {name}")).await;
    let present = Source {
        publication_name: PublicationName::parse(&name).unwrap(),
        ..local_source()
    };
    let absent = Source {
        publication_name: PublicationName::parse(&unique_name("no_publication")).unwrap(),
        ..local_source()
    };
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));

    assert!(probe.probe(&present).await.unwrap().publication_exists);
    assert!(!probe.probe(&absent).await.unwrap().publication_exists);
}

#[tokio::test]
async fn a_role_without_pg_monitor_gets_everything_but_the_wal_directory() {
    let role = unique_name("role");
    let _role = Cleanup::new(format!("DROP ROLE IF EXISTS {role}"));
    // No password: the local server trusts every login.
    admin_execute(&format!("CREATE ROLE {role} LOGIN")).await;
    let source = Source {
        pg_username: Text::parse(&role).unwrap(),
        ..local_source()
    };
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));

    let reading = probe.probe(&source).await.unwrap();

    assert_eq!(reading.wal_directory, None, "{reading:?}");
    assert_eq!(reading.privileges, RolePrivileges::default(), "{reading:?}");
    assert!(reading.position_bytes > 0, "{reading:?}");
    assert!(!reading.wal_level.is_empty(), "{reading:?}");
    assert!(reading.max_replication_slots > 0, "{reading:?}");
}
