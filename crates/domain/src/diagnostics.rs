//! What checking a source or a destination tells a user before a pipeline starts on it: can
//! Rosetta reach the source, and is it set up for logical replication; can Rosetta sign in to the
//! destination and write there.

use chrono::{DateTime, Utc};

use crate::{Source, WalReading};

/// The oldest PostgreSQL major version Rosetta supports as a source.
pub const OLDEST_SUPPORTED_MAJOR_VERSION: i32 = 12;

/// What a check of one aspect of a source found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticCheck {
    /// A stable, snake_case name (`reachable`, `wal_level_logical`, …).
    pub name: &'static str,
    /// Whether the source passes it.
    pub passed: bool,
    /// Whether a pipeline needs it to pass; the others are advice.
    pub required: bool,
    /// What was found, in words.
    pub detail: String,
}

impl DiagnosticCheck {
    /// A check a pipeline needs to pass.
    pub fn required(name: &'static str, passed: bool, detail: impl Into<String>) -> Self {
        check(name, passed, true, detail.into())
    }

    /// A check that is advice only: a pipeline runs when it fails.
    pub fn advice(name: &'static str, passed: bool, detail: impl Into<String>) -> Self {
        check(name, passed, false, detail.into())
    }
}

/// The diagnostics of a source, probed on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDiagnostics {
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
    /// Whether every required check passed.
    pub ready: bool,
    /// What the probe read, when it could connect.
    pub reading: Option<WalReading>,
    /// Every check, required ones first.
    pub checks: Vec<DiagnosticCheck>,
}

impl SourceDiagnostics {
    /// Judges a source from one probe: its reading, or why it failed (a message without
    /// secrets).
    pub fn from_probe(
        source: &Source,
        probe: Result<WalReading, String>,
        checked_at: DateTime<Utc>,
    ) -> Self {
        let reading = match probe {
            Ok(reading) => reading,
            Err(error) => {
                return Self {
                    checked_at,
                    ready: false,
                    reading: None,
                    checks: vec![check("reachable", false, true, error)],
                }
            }
        };
        let mut checks = vec![check(
            "reachable",
            true,
            true,
            format!(
                "connected to database {} on {} as {}",
                source.pg_database,
                source.address(),
                source.pg_username
            ),
        )];
        checks.extend(reading_checks(source, &reading));
        checks.sort_by_key(|check| !check.required);
        let ready = checks.iter().all(|check| check.passed || !check.required);
        Self {
            checked_at,
            ready,
            reading: Some(reading),
            checks,
        }
    }
}

/// The diagnostics of a destination, checked on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationDiagnostics {
    /// When the check ran.
    pub checked_at: DateTime<Utc>,
    /// Whether there was at least one check and every required one passed.
    pub ready: bool,
    /// Every check, required ones first.
    pub checks: Vec<DiagnosticCheck>,
}

impl DestinationDiagnostics {
    /// Judges a destination from the checks its writer made (required ones are put first,
    /// keeping their order). No check at all is not ready: nothing was shown to work.
    pub fn new(mut checks: Vec<DiagnosticCheck>, checked_at: DateTime<Utc>) -> Self {
        checks.sort_by_key(|check| !check.required);
        let ready =
            !checks.is_empty() && checks.iter().all(|check| check.passed || !check.required);
        Self {
            checked_at,
            ready,
            checks,
        }
    }
}

fn check(name: &'static str, passed: bool, required: bool, detail: String) -> DiagnosticCheck {
    DiagnosticCheck {
        name,
        passed,
        required,
        detail,
    }
}

/// The checks a successful probe allows.
fn reading_checks(source: &Source, reading: &WalReading) -> Vec<DiagnosticCheck> {
    let major = reading.major_version();
    let privileges = reading.privileges;
    let slots = format!("{}<pipeline id>", source.slot_prefix());
    let publication = source.publication_name.as_str();
    let slots_used = i32::try_from(reading.slots.len()).unwrap_or(i32::MAX);
    vec![
        check(
            "server_version",
            major >= OLDEST_SUPPORTED_MAJOR_VERSION,
            true,
            format!(
                "server_version_num {} (PostgreSQL {OLDEST_SUPPORTED_MAJOR_VERSION} or later is supported)",
                reading.server_version_num
            ),
        ),
        check(
            "wal_level_logical",
            reading.wal_level == "logical",
            true,
            format!(
                "wal_level is {}; logical replication needs logical",
                reading.wal_level
            ),
        ),
        check(
            "publication_exists",
            reading.publication_exists,
            true,
            if reading.publication_exists {
                format!("publication {publication} exists")
            } else {
                format!("publication {publication} does not exist in database {}", source.pg_database)
            },
        ),
        check(
            "replication_privilege",
            privileges.superuser || privileges.replication,
            true,
            if privileges.superuser || privileges.replication {
                format!("role {} may stream replication", source.pg_username)
            } else {
                format!(
                    "role {} has neither REPLICATION nor SUPERUSER, so it cannot stream from a slot",
                    source.pg_username
                )
            },
        ),
        check(
            "free_replication_slot",
            reading.slot_exists || slots_used < reading.max_replication_slots,
            !reading.slot_exists,
            format!(
                "{slots_used} of max_replication_slots {} are in use",
                reading.max_replication_slots
            ),
        ),
        check(
            "slot_exists",
            reading.slot_exists,
            false,
            if reading.slot_exists {
                format!("the source's pipelines have their replication slots ({slots})")
            } else {
                format!("no pipeline of the source has its replication slot ({slots}) yet; each pipeline creates its own when it starts")
            },
        ),
        check(
            "monitor_privilege",
            reading.wal_directory.is_some(),
            false,
            if reading.wal_directory.is_some() {
                "the role may list the WAL directory".to_owned()
            } else {
                format!(
                    "role {} may not call pg_ls_waldir(); grant it pg_monitor so the WAL directory size is watched",
                    source.pg_username
                )
            },
        ),
        check(
            "primary",
            !reading.in_recovery,
            false,
            if reading.in_recovery {
                "the server is a standby; its WAL position is the one it received".to_owned()
            } else {
                "the server is a primary".to_owned()
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{logical_reading, logical_slot};
    use crate::{
        Name, PortNumber, PublicationName, ReplicationId, RolePrivileges, Secret, SourceId,
        SslMode, Text,
    };

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn source() -> Source {
        Source {
            id: SourceId::new(1),
            name: Name::parse("orders").unwrap(),
            pg_host: Text::parse("db.internal").unwrap(),
            pg_port: PortNumber::new(5433).unwrap(),
            pg_database: Text::parse("shop").unwrap(),
            pg_username: Text::parse("replicator").unwrap(),
            pg_password: Some(Secret::parse("hunter2").unwrap()),
            publication_name: PublicationName::parse("rosetta_pub").unwrap(),
            replication_id: ReplicationId::new(7).unwrap(),
            ssl_mode: SslMode::default(),
            created_at: at(0),
            updated_at: at(0),
        }
    }

    /// A primary set up for logical replication, whose slot `rosetta_7` exists and which has a
    /// replication slot free.
    fn ready_reading() -> WalReading {
        WalReading {
            max_replication_slots: 2,
            ..logical_reading(at(10), 1 << 30, vec![logical_slot("rosetta_7", 0)])
        }
    }

    fn diagnose(reading: WalReading) -> SourceDiagnostics {
        SourceDiagnostics::from_probe(&source(), Ok(reading), at(20))
    }

    fn find<'a>(diagnostics: &'a SourceDiagnostics, name: &str) -> &'a DiagnosticCheck {
        diagnostics
            .checks
            .iter()
            .find(|check| check.name == name)
            .unwrap_or_else(|| panic!("no check {name}"))
    }

    /// The required checks that failed.
    fn blocking(diagnostics: &SourceDiagnostics) -> Vec<&'static str> {
        diagnostics
            .checks
            .iter()
            .filter(|check| check.required && !check.passed)
            .map(|check| check.name)
            .collect()
    }

    #[test]
    fn a_source_set_up_for_logical_replication_is_ready() {
        let diagnostics = diagnose(ready_reading());

        assert!(diagnostics.ready);
        assert_eq!(diagnostics.checked_at, at(20));
        assert_eq!(diagnostics.reading, Some(ready_reading()));
        assert!(diagnostics.checks.iter().all(|check| check.passed));
        let names: Vec<_> = diagnostics.checks.iter().map(|check| check.name).collect();
        assert_eq!(
            names,
            [
                "reachable",
                "server_version",
                "wal_level_logical",
                "publication_exists",
                "replication_privilege",
                "free_replication_slot",
                "slot_exists",
                "monitor_privilege",
                "primary",
            ]
        );
    }

    #[test]
    fn required_checks_come_first() {
        let mut reading = ready_reading();
        reading.slot_exists = false;

        let diagnostics = diagnose(reading);

        let first_advice = diagnostics
            .checks
            .iter()
            .position(|check| !check.required)
            .unwrap();
        assert!(diagnostics.checks[first_advice..]
            .iter()
            .all(|check| !check.required));
        assert!(find(&diagnostics, "free_replication_slot").required);
    }

    #[test]
    fn the_reachable_check_names_the_connection_but_not_the_password() {
        let diagnostics = diagnose(ready_reading());

        let reachable = find(&diagnostics, "reachable");
        assert!(reachable.passed && reachable.required);
        assert_eq!(
            reachable.detail,
            "connected to database shop on db.internal:5433 as replicator"
        );
        assert!(diagnostics
            .checks
            .iter()
            .all(|check| !check.detail.contains("hunter2")));
    }

    #[test]
    fn an_unreachable_source_has_one_failing_check_holding_the_error() {
        let error = "cannot connect to db.internal:5433: connection refused".to_owned();

        let diagnostics = SourceDiagnostics::from_probe(&source(), Err(error.clone()), at(20));

        assert!(!diagnostics.ready);
        assert_eq!(diagnostics.reading, None);
        assert_eq!(
            diagnostics.checks,
            [DiagnosticCheck {
                name: "reachable",
                passed: false,
                required: true,
                detail: error,
            }]
        );
    }

    /// Breaks one aspect of a ready reading.
    type Breakage = fn(&mut WalReading);

    #[test]
    fn each_required_check_that_fails_makes_the_source_not_ready() {
        let cases: [(&str, Breakage); 5] = [
            ("server_version", |r| r.server_version_num = 110_022),
            ("wal_level_logical", |r| r.wal_level = "replica".to_owned()),
            ("publication_exists", |r| r.publication_exists = false),
            ("replication_privilege", |r| {
                r.privileges.replication = false;
                r.privileges.superuser = false;
            }),
            ("free_replication_slot", |r| {
                r.slot_exists = false;
                r.slots = vec![logical_slot("a", 0), logical_slot("b", 0)];
            }),
        ];
        for (name, break_it) in cases {
            let mut reading = ready_reading();
            break_it(&mut reading);

            let diagnostics = diagnose(reading);

            assert!(!diagnostics.ready, "{name}");
            assert_eq!(blocking(&diagnostics), [name]);
        }
    }

    #[test]
    fn a_destination_whose_required_checks_pass_is_ready_with_failing_advice() {
        let checks = vec![
            DiagnosticCheck::advice("tip", false, "consider this"),
            DiagnosticCheck::required("connect", true, "signed in"),
            DiagnosticCheck::required("create_table", true, "may create tables"),
        ];

        let diagnostics = DestinationDiagnostics::new(checks, at(20));

        assert!(diagnostics.ready);
        assert_eq!(diagnostics.checked_at, at(20));
        let names: Vec<_> = diagnostics.checks.iter().map(|check| check.name).collect();
        assert_eq!(names, ["connect", "create_table", "tip"]);
    }

    #[test]
    fn a_destination_failing_a_required_check_or_without_checks_is_not_ready() {
        let failed = DestinationDiagnostics::new(
            vec![DiagnosticCheck::required("connect", false, "refused")],
            at(20),
        );
        assert!(!failed.ready);
        assert_eq!(
            failed.checks,
            [DiagnosticCheck {
                name: "connect",
                passed: false,
                required: true,
                detail: "refused".to_owned(),
            }]
        );

        assert!(!DestinationDiagnostics::new(Vec::new(), at(20)).ready);
    }

    #[test]
    fn the_oldest_supported_version_passes() {
        let mut reading = ready_reading();
        reading.server_version_num = OLDEST_SUPPORTED_MAJOR_VERSION * 10_000 + 5;

        assert!(find(&diagnose(reading), "server_version").passed);
    }

    #[test]
    fn a_superuser_may_stream_without_the_replication_attribute() {
        let mut reading = ready_reading();
        reading.privileges = RolePrivileges {
            superuser: true,
            replication: false,
            monitor: false,
        };

        let diagnostics = diagnose(reading);

        assert!(find(&diagnostics, "replication_privilege").passed);
        assert!(diagnostics.ready);
    }

    #[test]
    fn a_free_slot_is_needed_only_until_the_sources_slot_exists() {
        let full = |slot_exists: bool| {
            let mut reading = ready_reading();
            reading.slot_exists = slot_exists;
            reading.slots = vec![logical_slot("a", 0), logical_slot("b", 0)];
            diagnose(reading)
        };

        let with_slot = full(true);
        let free = find(&with_slot, "free_replication_slot");
        assert!(free.passed && !free.required);
        assert!(with_slot.ready);

        let without_slot = full(false);
        let free = find(&without_slot, "free_replication_slot");
        assert!(!free.passed && free.required);
        assert_eq!(free.detail, "2 of max_replication_slots 2 are in use");
        assert!(!without_slot.ready);
    }

    #[test]
    fn a_missing_slot_with_room_for_it_is_ready_with_advice() {
        let mut reading = ready_reading();
        reading.slot_exists = false;
        reading.slots = Vec::new();

        let diagnostics = diagnose(reading);

        assert!(diagnostics.ready);
        assert!(find(&diagnostics, "free_replication_slot").passed);
        let slot = find(&diagnostics, "slot_exists");
        assert!(!slot.passed && !slot.required);
        assert!(slot.detail.contains("rosetta_7"), "{}", slot.detail);
    }

    #[test]
    fn advice_that_fails_does_not_make_the_source_not_ready() {
        let mut reading = ready_reading();
        reading.wal_directory = None;
        reading.in_recovery = true;

        let diagnostics = diagnose(reading);

        assert!(diagnostics.ready);
        assert!(!find(&diagnostics, "monitor_privilege").passed);
        assert!(!find(&diagnostics, "primary").passed);
        assert!(find(&diagnostics, "monitor_privilege")
            .detail
            .contains("pg_monitor"));
    }
}
