//! Folding a run of row changes to one table into their net effect per key, so that a batch
//! is written with a few set-based statements instead of one statement per change.
//!
//! Each key ends up with one [`Net`] operation: `Delete` (the row must be gone) or `Upsert`
//! (the row must hold these values, `Unchanged` columns keeping what the destination has).
//! A key change is a delete of the old key and an upsert of the new one. An `Unchanged` value
//! takes the value an earlier change of the batch (or the update's old row, under `REPLICA
//! IDENTITY FULL`) supplied, so that it still means "the value before this change".

use std::borrow::Cow;

// Keys are hashed once per change: foldhash (seeded per map) costs a fraction of the standard
// SipHash, which took a tenth of the replicator's CPU time draining a backlog.
use foldhash::HashMap;

use super::{Change, Datum, Row};
use bytes::Bytes;

/// A row's key: its key columns' values, in key order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A one-column key, the common case, without an allocation of its own.
    One(Bytes),
    /// A key of several columns.
    Many(Box<[Bytes]>),
}

impl Key {
    /// The value of the key's `index`-th column.
    pub fn value(&self, index: usize) -> Option<&Bytes> {
        match self {
            Self::One(value) => (index == 0).then_some(value),
            Self::Many(values) => values.get(index),
        }
    }
}

/// What must be true of one key's row once the batch is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Net<'a> {
    /// The row is gone (whether or not it was there).
    Delete,
    /// The row holds these values; an `Unchanged` column keeps the destination's value, so
    /// such a row is only updated, never inserted.
    Upsert(Cow<'a, [Datum]>),
}

/// What folding one change did.
#[derive(Debug, PartialEq, Eq)]
pub enum Folded<'a> {
    /// The change is part of the fold.
    Done,
    /// The change moves a row to a new key and keeps values of it that neither the change nor
    /// the batch holds: only the destination's row at `from` has them. The fold so far must be
    /// written first, then the row moved by a statement of its own; the fold is unchanged.
    Move {
        /// The row's old key.
        from: Key,
        /// The row's new values (`Unchanged` where the old row's are kept).
        row: Cow<'a, [Datum]>,
    },
}

/// Why a change cannot be folded: it does not fit the table's layout.
#[derive(Debug, PartialEq, Eq)]
pub struct Misfit(pub String);

/// The net effect of a run of changes to one keyed table.
#[derive(Debug)]
pub struct Fold<'a> {
    key: Vec<usize>,
    width: usize,
    net: HashMap<Key, Entry<'a>>,
}

/// One key's net operation, and whether its row was there before the fold's first change.
#[derive(Debug)]
struct Entry<'a> {
    net: Net<'a>,
    /// Told by the key's first change: an insert (or a key moved to it) means the row was not
    /// there, an update or a delete that it was. The destination mirrors the source as of the
    /// checkpoint, so what was true on the source is true there.
    existed: bool,
}

impl<'a> Fold<'a> {
    /// An empty fold for rows of `width` columns whose key is at positions `key`.
    pub fn new(key: &[usize], width: usize) -> Self {
        Self {
            key: key.to_vec(),
            width,
            net: HashMap::default(),
        }
    }

    /// Whether nothing is folded.
    pub fn is_empty(&self) -> bool {
        self.net.is_empty()
    }

    /// The net operations, one per key, in no particular order (each touches its own row),
    /// each with whether the row was there before the fold's first change.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Net<'a>, bool)> {
        self.net.iter().map(|(key, e)| (key, &e.net, e.existed))
    }

    /// Records `net` for `key`; `existed` counts only for the key's first change.
    fn put(&mut self, key: Key, net: Net<'a>, existed: bool) {
        match self.net.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut entry) => entry.get_mut().net = net,
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(Entry { net, existed });
            }
        }
    }

    /// The positions of the key columns.
    pub fn key_positions(&self) -> &[usize] {
        &self.key
    }

    /// Forgets everything folded.
    pub fn clear(&mut self) {
        self.net.clear();
    }

    /// Adds `change` (an insert, update or delete of this table) to the fold.
    ///
    /// # Errors
    ///
    /// When a row does not have the table's width, or its key is NULL or unchanged.
    pub fn fold(&mut self, change: &'a Change) -> Result<Folded<'a>, Misfit> {
        match change {
            Change::Insert { new, .. } => {
                let row = self.fits(new)?;
                let key = self.key_of(row)?;
                self.put(key, Net::Upsert(Cow::Borrowed(row)), false);
            }
            Change::Update { old, new, .. } => {
                let old = old.as_ref().map(|old| self.fits(old)).transpose()?;
                let new = self.fits(new)?;
                let old_key = old.map(|old| self.key_of(old)).transpose()?;
                // Without an old row the key did not change, and the new row holds it.
                let same_key = match old_key {
                    Some(_) => None,
                    None => Some(self.key_of(new)?),
                };
                let prior = old_key
                    .as_ref()
                    .or(same_key.as_ref())
                    .and_then(|key| self.net.get(key))
                    .map(|entry| &entry.net);
                let row = Self::fill(new, old, prior);
                let key = self.key_of(&row)?;
                match old_key {
                    Some(from) if from != key => {
                        if row.contains(&Datum::Unchanged) {
                            return Ok(Folded::Move { from, row });
                        }
                        self.put(from, Net::Delete, true);
                        // The source's unique key: no row had the new key.
                        self.put(key, Net::Upsert(row), false);
                    }
                    _ => {
                        self.put(key, Net::Upsert(row), true);
                    }
                }
            }
            Change::Delete { old, .. } => {
                let key = self.key_of(self.fits(old)?)?;
                self.put(key, Net::Delete, true);
            }
            Change::Truncate { .. } => {
                return Err(Misfit("a TRUNCATE is not a row change".to_owned()));
            }
        }
        Ok(Folded::Done)
    }

    fn fits<'r>(&self, row: &'r Row) -> Result<&'r [Datum], Misfit> {
        if row.0.len() == self.width {
            Ok(&row.0)
        } else {
            Err(Misfit(format!(
                "a row has {} values and the table {} columns",
                row.0.len(),
                self.width
            )))
        }
    }

    /// `new` with each `Unchanged` value replaced by the value before the change: the old
    /// row's (when it holds one) or else the one this batch last wrote for the row. Borrowed
    /// when nothing is replaced.
    fn fill(
        new: &'a [Datum],
        old: Option<&'a [Datum]>,
        prior: Option<&Net<'a>>,
    ) -> Cow<'a, [Datum]> {
        let prior = match prior {
            Some(Net::Upsert(values)) => Some(&**values),
            Some(Net::Delete) | None => None,
        };
        if (prior.is_none() && old.is_none()) || !new.contains(&Datum::Unchanged) {
            return Cow::Borrowed(new);
        }
        let filled = new
            .iter()
            .enumerate()
            .map(|(i, datum)| match datum {
                Datum::Unchanged => match (old.map(|old| &old[i]), prior.map(|prior| &prior[i])) {
                    (Some(Datum::Text(value)), _) => Datum::Text(value.clone()),
                    (_, Some(value)) => value.clone(),
                    _ => Datum::Unchanged,
                },
                other => other.clone(),
            })
            .collect();
        Cow::Owned(filled)
    }

    fn key_of(&self, row: &[Datum]) -> Result<Key, Misfit> {
        let value = |i: usize| match &row[i] {
            Datum::Text(value) => Ok(value.clone()),
            Datum::Null | Datum::Unchanged => Err(Misfit(
                "a row's key is NULL or missing from the change".to_owned(),
            )),
        };
        match self.key.as_slice() {
            [one] => Ok(Key::One(value(*one)?)),
            many => Ok(Key::Many(
                many.iter().map(|&i| value(i)).collect::<Result<_, _>>()?,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::replication::RelationId;
    use proptest::prelude::*;

    use super::*;

    const TABLE: RelationId = RelationId::new(1);

    fn text(value: &str) -> Datum {
        Datum::Text(Bytes::copy_from_slice(value.as_bytes()))
    }

    fn row(values: &[Datum]) -> Row {
        Row(values.to_vec())
    }

    fn insert(values: &[Datum]) -> Change {
        Change::Insert {
            relation: TABLE,
            new: row(values),
        }
    }

    fn update(old: Option<&[Datum]>, new: &[Datum]) -> Change {
        Change::Update {
            relation: TABLE,
            old: old.map(row),
            new: row(new),
        }
    }

    fn delete(key: &str) -> Change {
        Change::Delete {
            relation: TABLE,
            old: row(&[text(key), Datum::Null, Datum::Null]),
        }
    }

    fn net_of<'a>(fold: &'a Fold<'_>, key: &str) -> Option<&'a Net<'a>> {
        fold.net
            .get(&Key::One(Bytes::copy_from_slice(key.as_bytes())))
            .map(|entry| &entry.net)
    }

    #[test]
    fn a_row_inserted_updated_and_deleted_in_one_batch_is_a_delete() {
        let changes = [
            insert(&[text("1"), text("a"), text("x")]),
            update(None, &[text("1"), text("b"), Datum::Unchanged]),
            delete("1"),
        ];
        let mut fold = Fold::new(&[0], 3);
        for change in &changes {
            assert_eq!(fold.fold(change), Ok(Folded::Done));
        }
        assert_eq!(net_of(&fold, "1"), Some(&Net::Delete));
        assert_eq!(fold.iter().count(), 1);
    }

    #[test]
    fn an_unchanged_value_takes_the_batchs_earlier_value_or_the_full_old_row() {
        let changes = [
            insert(&[text("1"), text("a"), text("big")]),
            update(None, &[text("1"), text("b"), Datum::Unchanged]),
            update(
                Some(&[text("2"), text("c"), text("old-big")]),
                &[text("2"), text("d"), Datum::Unchanged],
            ),
            update(None, &[text("3"), text("e"), Datum::Unchanged]),
        ];
        let mut fold = Fold::new(&[0], 3);
        for change in &changes {
            fold.fold(change).unwrap();
        }
        let upsert = |values: &[Datum]| Net::Upsert(Cow::Owned(values.to_vec()));
        assert_eq!(
            net_of(&fold, "1"),
            Some(&upsert(&[text("1"), text("b"), text("big")]))
        );
        assert_eq!(
            net_of(&fold, "2"),
            Some(&upsert(&[text("2"), text("d"), text("old-big")]))
        );
        // Nothing in the batch knows row 3's value: the destination keeps its own.
        assert_eq!(
            net_of(&fold, "3"),
            Some(&upsert(&[text("3"), text("e"), Datum::Unchanged]))
        );
    }

    #[test]
    fn a_key_change_deletes_the_old_key_and_upserts_the_new_one() {
        let changes = [
            insert(&[text("1"), text("a"), text("big")]),
            update(
                Some(&[text("1"), Datum::Null, Datum::Null]),
                &[text("2"), text("a"), Datum::Unchanged],
            ),
        ];
        let mut fold = Fold::new(&[0], 3);
        for change in &changes {
            fold.fold(change).unwrap();
        }
        assert_eq!(net_of(&fold, "1"), Some(&Net::Delete));
        assert_eq!(
            net_of(&fold, "2"),
            Some(&Net::Upsert(Cow::Owned(vec![
                text("2"),
                text("a"),
                text("big")
            ])))
        );
    }

    #[test]
    fn a_key_change_keeping_a_value_only_the_destination_has_is_a_move() {
        let change = update(
            Some(&[text("1"), Datum::Null, Datum::Null]),
            &[text("2"), text("a"), Datum::Unchanged],
        );
        let mut fold = Fold::new(&[0], 3);
        match fold.fold(&change).unwrap() {
            Folded::Move { from, row } => {
                assert_eq!(from, Key::One(Bytes::from_static(b"1")));
                assert_eq!(&row[..], &[text("2"), text("a"), Datum::Unchanged]);
            }
            Folded::Done => panic!("expected a move"),
        }
        assert!(fold.is_empty());
    }

    #[test]
    fn rows_that_do_not_fit_the_table_are_refused() {
        let short = insert(&[text("1")]);
        let null_key = insert(&[text("1"), Datum::Null, text("x")]);
        let truncate = Change::Truncate {
            relations: vec![TABLE],
            restart_identity: false,
        };
        let good = insert(&[text("1"), text("2"), text("x")]);
        let mut fold = Fold::new(&[0, 1], 3);
        assert!(fold.fold(&short).is_err());
        assert!(fold.fold(&null_key).is_err());
        assert!(fold.fold(&truncate).is_err());
        assert!(fold.fold(&good).is_ok());
        assert_eq!(
            fold.iter().next().map(|(key, _, _)| key.value(1).cloned()),
            Some(Some(Bytes::from_static(b"2")))
        );
    }

    /// A table of rows `(key, a, t)` where `t` stands for a TOASTed column.
    type Table = BTreeMap<u8, [Option<u8>; 2]>;

    /// One step the source took, interpreted against its current rows so that every change
    /// is one the source could have streamed.
    #[derive(Debug, Clone)]
    struct Step {
        kind: u8,
        key: u8,
        new_key: u8,
        a: Option<u8>,
        t: Option<u8>,
        keep_t: bool,
        full: bool,
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        let step = (
            0..3_u8,
            0..5_u8,
            0..5_u8,
            proptest::option::of(0..3_u8),
            proptest::option::of(0..3_u8),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(kind, key, new_key, a, t, keep_t, full)| Step {
                kind,
                key,
                new_key,
                a,
                t,
                keep_t,
                full,
            });
        proptest::collection::vec(step, 0..40)
    }

    fn value(v: Option<u8>) -> Datum {
        v.map_or(Datum::Null, |v| text(&v.to_string()))
    }

    fn values(key: u8, [a, t]: [Option<u8>; 2]) -> Vec<Datum> {
        vec![text(&key.to_string()), value(a), value(t)]
    }

    /// The changes the steps make on `source`, which they update.
    fn changes(source: &mut Table, steps: &[Step]) -> Vec<Change> {
        let mut changes = Vec::new();
        for step in steps {
            match (step.kind, source.get(&step.key).copied()) {
                (0, None) | (_, None) => {
                    let row = [step.a, step.t];
                    source.insert(step.key, row);
                    changes.push(insert(&values(step.key, row)));
                }
                (1, Some(before)) => {
                    let target = if source.contains_key(&step.new_key) {
                        step.key
                    } else {
                        step.new_key
                    };
                    // An untouched TOASTed value is sent as unchanged; NULL is never TOASTed.
                    let keep = step.keep_t && before[1].is_some();
                    let after = [step.a, if keep { before[1] } else { step.t }];
                    let mut new = values(target, after);
                    if keep {
                        new[2] = Datum::Unchanged;
                    }
                    let old = if step.full {
                        Some(values(step.key, before))
                    } else if target != step.key {
                        Some(vec![text(&step.key.to_string()), Datum::Null, Datum::Null])
                    } else {
                        None
                    };
                    source.remove(&step.key);
                    source.insert(target, after);
                    changes.push(update(old.as_deref(), &new));
                }
                (_, Some(before)) => {
                    source.remove(&step.key);
                    changes.push(if step.full {
                        Change::Delete {
                            relation: TABLE,
                            old: Row(values(step.key, before)),
                        }
                    } else {
                        delete(&step.key.to_string())
                    });
                }
            }
        }
        changes
    }

    fn parse(datum: &Datum) -> Option<u8> {
        match datum {
            Datum::Text(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
            Datum::Null | Datum::Unchanged => None,
        }
    }

    fn key_of(key: &Key) -> u8 {
        key.value(0)
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or(u8::MAX)
    }

    /// Writes the net rows as the statements do: deletes, inserts of rows that were not there
    /// (refused when they are), updates of rows that were (which must be), and updates of the
    /// columns not unchanged (on rows that exist).
    fn write(table: &mut Table, fold: &Fold<'_>) {
        for (key, net, existed) in fold.iter() {
            let key = key_of(key);
            match net {
                Net::Delete => {
                    table.remove(&key);
                }
                Net::Upsert(values) if existed => {
                    let row = table
                        .get_mut(&key)
                        .expect("an update of a row that is not there");
                    for (i, value) in values.iter().enumerate().skip(1) {
                        if *value != Datum::Unchanged {
                            row[i - 1] = parse(value);
                        }
                    }
                }
                Net::Upsert(values) if values.contains(&Datum::Unchanged) => {
                    if let Some(row) = table.get_mut(&key) {
                        row[0] = parse(&values[1]);
                    }
                }
                Net::Upsert(values) => {
                    let there = table.insert(key, [parse(&values[1]), parse(&values[2])]);
                    assert!(there.is_none(), "an insert of a row that is there");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn writing_the_fold_gives_what_applying_each_change_gives(
            initial in proptest::collection::btree_map(0..5_u8, (proptest::option::of(0..3_u8), proptest::option::of(0..3_u8)).prop_map(|(a, t)| [a, t]), 0..5),
            steps in steps(),
        ) {
            let mut source = initial.clone();
            let changes = changes(&mut source, &steps);
            let mut destination = initial;
            let mut fold = Fold::new(&[0], 3);
            for change in &changes {
                match fold.fold(change).unwrap() {
                    Folded::Done => {}
                    Folded::Move { from, row } => {
                        write(&mut destination, &fold);
                        fold.clear();
                        let kept = destination.remove(&key_of(&from));
                        let t = match &row[2] {
                            Datum::Unchanged => kept.and_then(|r| r[1]),
                            other => parse(other),
                        };
                        destination.insert(parse(&row[0]).unwrap_or(u8::MAX), [parse(&row[1]), t]);
                    }
                }
            }
            write(&mut destination, &fold);
            prop_assert_eq!(destination, source);
        }
    }
}
