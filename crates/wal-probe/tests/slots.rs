//! Tests of the replication slots a probe reads, against physical slots created on the local
//! PostgreSQL. The cluster is shared and has few slots: each test creates one, under a name of
//! its own, and drops it whatever happens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{generate_wal, local_source, unique_name, unique_replication_id, Cleanup};
use rosetta_domain::{ports::WalProbe, slot_prefix, SlotReading, SlotType, Source, WalReading};
use rosetta_wal_probe::{PgWalProbe, ProbeSettings};

/// Creates a physical slot that reserves WAL at once, and the guard that drops it.
async fn create_physical_slot(name: &str) -> Cleanup {
    // The guard comes first: should creating fail half-way, nothing is left behind.
    let guard = Cleanup::new(format!(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
         WHERE slot_name = '{name}'"
    ));
    common::admin_execute(&format!(
        "SELECT pg_create_physical_replication_slot('{name}', true)"
    ))
    .await;
    guard
}

fn find<'a>(reading: &'a WalReading, name: &str) -> &'a SlotReading {
    reading
        .slots
        .iter()
        .find(|slot| slot.name == name)
        .unwrap_or_else(|| panic!("no slot {name} in {:?}", reading.slots))
}

#[tokio::test]
async fn a_physical_slot_shows_up_and_retains_more_wal_as_wal_is_written() {
    let name = unique_name("physical");
    let _slot = create_physical_slot(&name).await;
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
    let source = local_source();

    let first = probe.probe(&source).await.unwrap();
    generate_wal().await;
    let second = probe.probe(&source).await.unwrap();

    let before = find(&first, &name);
    assert_eq!(before.slot_type, SlotType::Physical, "{before:?}");
    assert!(!before.active, "{before:?}");
    assert_eq!(before.plugin, None, "{before:?}");
    assert_eq!(before.database, None, "{before:?}");
    assert_eq!(before.unconfirmed_bytes, None, "{before:?}");
    let retained_before = before.retained_bytes.expect("the slot reserved WAL");
    assert!(retained_before >= 0, "{before:?}");
    if first.major_version() >= 13 {
        assert_eq!(before.wal_status.as_deref(), Some("reserved"), "{before:?}");
    }
    let after = find(&second, &name);
    let retained_after = after.retained_bytes.expect("the slot reserved WAL");
    assert!(
        retained_after > retained_before,
        "{before:?} then {after:?}"
    );
}

#[tokio::test]
async fn the_sources_slot_exists_once_a_slot_carries_its_name() {
    let with_slot = Source {
        replication_id: unique_replication_id(1),
        ..local_source()
    };
    let without_slot = Source {
        replication_id: unique_replication_id(2),
        ..local_source()
    };
    let _slot = create_physical_slot(&format!("{}1", slot_prefix(with_slot.replication_id))).await;
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));

    let found = probe.probe(&with_slot).await.unwrap();
    let missing = probe.probe(&without_slot).await.unwrap();

    assert!(found.slot_exists, "{:?}", found.slots);
    assert!(!missing.slot_exists, "{:?}", missing.slots);
}
