//! `slonik-gen discover` (altperl's `slonik_build_env`): the tables and sequences of a
//! node's database that a set can replicate, as a `[[set]]` config fragment.
//!
//! [`read_snapshot`] reads what is needed from the PostgreSQL catalog (relations, unique
//! indexes, foreign keys, the columns owning sequences) in one session whose `search_path`
//! is pinned to `pg_catalog, pg_temp`, every function and relation named with its schema,
//! and every value passed as a bind parameter. Everything else is pure and works on a
//! [`Snapshot`]: [`discover`] picks the tables of some schemas (or the foreign-key closure
//! of start tables) with their key, [`Discovery::to_toml`] renders the fragment (every
//! catalog name through [`crate::escape::toml`]), [`missing`] lists what no set holds.
//!
//! A table needs a primary key, or a unique index whose columns are all NOT NULL and that
//! is neither partial, nor on expressions, nor deferrable (Slony-I's `key`). Tables with
//! neither are refused: listed as comments and named on stderr. Partitioned parents (which
//! Slony-I 2.2 cannot replicate), views and foreign tables are skipped with a comment.

use std::collections::{BTreeMap, BTreeSet};

use crate::escape::{toml, visible};
use crate::model::table_list::is_listable;

/// A relation's schema and name, exactly as PostgreSQL spells them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relation {
    /// Schema (namespace).
    pub schema: String,
    /// Relation name.
    pub name: String,
}

impl Relation {
    /// A relation `schema.name`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Relation {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// `schema.name`, control characters escaped, for messages and comments.
    pub fn shown(&self) -> String {
        visible(&format!("{}.{}", self.schema, self.name)).into_owned()
    }

    /// A `--from` argument: `schema.name` split at the first dot, or `name` in
    /// `default_schema`.
    pub fn parse(text: &str, default_schema: &str) -> Relation {
        match text.split_once('.') {
            Some((schema, name)) => Relation::new(schema, name),
            None => Relation::new(default_schema, text),
        }
    }
}

/// What kind of relation a `pg_class` row is (`relkind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `r`: an ordinary table (a partition too).
    Table,
    /// `p`: a partitioned table's parent.
    Partitioned,
    /// `v`: a view.
    View,
    /// `m`: a materialized view.
    MaterializedView,
    /// `f`: a foreign table.
    Foreign,
    /// `S`: a sequence.
    Sequence,
}

impl Kind {
    /// The kind of a `relkind`, or `None` for kinds discover ignores (indexes, types...).
    pub fn of_relkind(relkind: &str) -> Option<Kind> {
        Some(match relkind {
            "r" => Kind::Table,
            "p" => Kind::Partitioned,
            "v" => Kind::View,
            "m" => Kind::MaterializedView,
            "f" => Kind::Foreign,
            "S" => Kind::Sequence,
            _ => return None,
        })
    }

    /// Why a relation of this kind is not in a set, for the comments of the output (`None`
    /// for tables and sequences).
    fn skipped_because(self) -> Option<&'static str> {
        Some(match self {
            Kind::Partitioned => "partitioned table: Slony-I 2.2 cannot replicate a partitioned parent; replicate its partitions, which are ordinary tables",
            Kind::View => "view: nothing to replicate, create it on every node",
            Kind::MaterializedView => "materialized view: Slony-I cannot replicate it; refresh it on every node",
            Kind::Foreign => "foreign table: its rows live elsewhere",
            Kind::Table | Kind::Sequence => return None,
        })
    }
}

/// One relation of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRelation {
    /// `pg_class.oid`.
    pub oid: i64,
    /// Its schema and name.
    pub relation: Relation,
    /// What it is.
    pub kind: Kind,
}

/// One unique index of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueIndex {
    /// The indexed table's oid.
    pub table: i64,
    /// The index's name (in the table's schema).
    pub name: String,
    /// The primary key.
    pub primary: bool,
    /// Number of columns.
    pub columns: i32,
    /// Usable as a Slony-I `key`: every column NOT NULL, no predicate, no expression,
    /// not deferrable, valid.
    pub usable: bool,
}

/// How a column owns a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// An identity column (`GENERATED ... AS IDENTITY`).
    Identity,
    /// A `serial` column: owned, and the column's default takes its `nextval`.
    Serial,
    /// `ALTER SEQUENCE ... OWNED BY` a column whose default does not use it.
    OwnedBy,
}

/// A sequence owned by a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceOwner {
    /// The sequence's oid.
    pub sequence: i64,
    /// The owning table's oid.
    pub table: i64,
    /// The owning column.
    pub column: String,
    /// How it owns it.
    pub how: Ownership,
}

/// What [`read_snapshot`] read: every relation outside the system schemas, the unique
/// indexes, foreign keys and sequence owners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Relations of the kinds of [`Kind`].
    pub relations: Vec<SnapshotRelation>,
    /// Unique indexes.
    pub indexes: Vec<UniqueIndex>,
    /// Foreign keys: (referencing table, referenced table) oids.
    pub foreign_keys: Vec<(i64, i64)>,
    /// Sequences owned by columns.
    pub owners: Vec<SequenceOwner>,
}

/// How a table can be replicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// By its primary key.
    Primary,
    /// By this unique, not-null index.
    Index(String),
    /// Not at all; why, and what to do.
    Refused(String),
}

/// The key of a table from its unique indexes: the primary key; else the usable unique
/// index with the fewest columns, then the first by name; else refused, saying why.
pub fn choose_key<'a>(indexes: impl IntoIterator<Item = &'a UniqueIndex>) -> Key {
    let indexes: Vec<&UniqueIndex> = indexes.into_iter().collect();
    if indexes.iter().any(|i| i.primary) {
        return Key::Primary;
    }
    if let Some(best) = indexes
        .iter()
        .filter(|i| i.usable)
        .min_by(|a, b| (a.columns, &a.name).cmp(&(b.columns, &b.name)))
    {
        return Key::Index(best.name.clone());
    }
    if indexes.is_empty() {
        Key::Refused("no primary key and no unique index: add a primary key".into())
    } else {
        let names: Vec<String> = indexes.iter().map(|i| visible(&i.name).into_owned()).collect();
        Key::Refused(format!(
            "no primary key, and its unique indexes ({}) have a nullable column or are partial, on expressions or deferrable: add a primary key (or make an index's columns NOT NULL)",
            names.join(", ")
        ))
    }
}

/// The tables connected to `starts` through foreign keys `(referencing, referenced)`, in
/// either direction, transitively; the starts included.
pub fn closure(starts: &[i64], foreign_keys: &[(i64, i64)]) -> BTreeSet<i64> {
    let mut neighbours: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for &(from, to) in foreign_keys {
        neighbours.entry(from).or_default().push(to);
        neighbours.entry(to).or_default().push(from);
    }
    let mut seen: BTreeSet<i64> = starts.iter().copied().collect();
    let mut todo: Vec<i64> = starts.to_vec();
    while let Some(oid) = todo.pop() {
        for &next in neighbours.get(&oid).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(next) {
                todo.push(next);
            }
        }
    }
    seen
}

/// Which relations [`discover`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every relation of these schemas.
    Schemas(Vec<String>),
    /// These tables and their foreign-key closure (across schemas), with the sequences
    /// their columns own.
    From(Vec<Relation>),
}

/// A table of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTable {
    /// Its name.
    pub relation: Relation,
    /// The unique index to use as `key`; `None` for the primary key.
    pub key: Option<String>,
}

/// A sequence of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSequence {
    /// Its name.
    pub relation: Relation,
    /// The owning column (`schema.table.column`) and how, when a column owns it.
    pub owner: Option<(Relation, String, Ownership)>,
}

/// What [`discover`] found, each list sorted by schema then name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The tables a set can hold.
    pub tables: Vec<FoundTable>,
    /// Tables with no usable key, and why.
    pub refused: Vec<(Relation, String)>,
    /// Relations left out for their kind, and why.
    pub skipped: Vec<(Relation, &'static str)>,
    /// The sequences.
    pub sequences: Vec<FoundSequence>,
    /// What was looked at, for the header comment.
    pub scope: Scope,
    /// Schemas of a [`Scope::Schemas`] that hold no table or sequence (misspelt, or
    /// missing from the database).
    pub empty_schemas: Vec<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope::Schemas(vec!["public".into()])
    }
}

/// The tables and sequences of `scope` in `snapshot`. Fails when a `--from` table is not
/// in the database or is not an ordinary table.
pub fn discover(snapshot: &Snapshot, scope: &Scope) -> Result<Discovery, String> {
    let by_oid: BTreeMap<i64, &SnapshotRelation> = snapshot.relations.iter().map(|r| (r.oid, r)).collect();
    let chosen: BTreeSet<i64> = match scope {
        Scope::Schemas(schemas) => snapshot
            .relations
            .iter()
            .filter(|r| schemas.contains(&r.relation.schema))
            .map(|r| r.oid)
            .collect(),
        Scope::From(starts) => {
            let mut oids = Vec::new();
            for start in starts {
                let found = snapshot.relations.iter().find(|r| &r.relation == start);
                match found {
                    Some(r) if r.kind == Kind::Table || r.kind == Kind::Partitioned => oids.push(r.oid),
                    Some(_) => {
                        return Err(format!(
                            "--from {}: not a table (a view, sequence or foreign table): give a table",
                            start.shown()
                        ))
                    }
                    None => {
                        return Err(format!(
                            "--from {}: no such table in this database: give it as schema.name, spelled as in PostgreSQL",
                            start.shown()
                        ))
                    }
                }
            }
            let tables = closure(&oids, &snapshot.foreign_keys);
            let owned = snapshot
                .owners
                .iter()
                .filter(|o| tables.contains(&o.table))
                .map(|o| o.sequence);
            tables.iter().copied().chain(owned).collect()
        }
    };
    let mut indexes: BTreeMap<i64, Vec<&UniqueIndex>> = BTreeMap::new();
    for index in &snapshot.indexes {
        indexes.entry(index.table).or_default().push(index);
    }
    let mut found = Discovery {
        scope: scope.clone(),
        ..Discovery::default()
    };
    for oid in &chosen {
        let Some(r) = by_oid.get(oid) else { continue };
        let relation = r.relation.clone();
        match r.kind {
            Kind::Table => match choose_key(indexes.get(oid).into_iter().flatten().copied()) {
                Key::Primary => found.tables.push(FoundTable { relation, key: None }),
                Key::Index(name) => found.tables.push(FoundTable {
                    relation,
                    key: Some(name),
                }),
                Key::Refused(why) => found.refused.push((relation, why)),
            },
            Kind::Sequence => {
                let owner = snapshot.owners.iter().find(|o| o.sequence == *oid).and_then(|o| {
                    by_oid
                        .get(&o.table)
                        .map(|t| (t.relation.clone(), o.column.clone(), o.how))
                });
                found.sequences.push(FoundSequence { relation, owner });
            }
            kind => {
                if let Some(why) = kind.skipped_because() {
                    found.skipped.push((relation, why));
                }
            }
        }
    }
    if let Scope::Schemas(schemas) = scope {
        found.empty_schemas = schemas
            .iter()
            .filter(|schema| {
                !snapshot
                    .relations
                    .iter()
                    .any(|r| &r.relation.schema == *schema && matches!(r.kind, Kind::Table | Kind::Sequence))
            })
            .cloned()
            .collect();
    }
    found.tables.sort_by(|a, b| a.relation.cmp(&b.relation));
    found.refused.sort();
    found.skipped.sort();
    found.sequences.sort_by(|a, b| a.relation.cmp(&b.relation));
    Ok(found)
}

/// The `[[set]]` header of the fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetHeader {
    /// `name`.
    pub name: String,
    /// `id`.
    pub id: u32,
}

/// A relation as a TOML array element: `"schema.name"` when that reads back as this
/// schema and name (a schema without a dot), else `{ schema = ..., name = ... }`.
fn entry(relation: &Relation, key: Option<&str>) -> String {
    match key {
        None if !relation.schema.contains('.') => {
            toml::string(&format!("{}.{}", relation.schema, relation.name))
        }
        _ => {
            let mut text = format!(
                "{{ schema = {}, name = {}",
                toml::string(&relation.schema),
                toml::string(&relation.name)
            );
            if let Some(key) = key {
                text.push_str(&format!(", key = {}", toml::string(key)));
            }
            text.push_str(" }");
            text
        }
    }
}

impl Discovery {
    /// The tables that go to a `tables_file`: those without a `key` whose name reads
    /// back from a list line ([`is_listable`]); the others stay inline.
    pub fn listable(&self) -> impl Iterator<Item = &FoundTable> {
        self.tables
            .iter()
            .filter(|t| t.key.is_none() && is_listable(&t.relation.schema, &t.relation.name))
    }

    /// The `tables_file` contents: one `schema.name` a line ([`Discovery::listable`]).
    pub fn tables_file(&self) -> String {
        self.listable()
            .map(|t| format!("{}.{}\n", t.relation.schema, t.relation.name))
            .collect()
    }

    /// The `[[set]]` fragment: `source` (the conninfo, already redacted) in the header
    /// comment; with `tables_file`, `tables_file = "..."` replaces the listable tables.
    pub fn to_toml(&self, set: &SetHeader, source: &str, tables_file: Option<&str>) -> String {
        let mut out = format!(
            "# Discovered by `slonik-gen discover` on {}, ",
            toml::comment(source)
        );
        match &self.scope {
            Scope::Schemas(schemas) => {
                let names: Vec<String> = schemas.iter().map(|s| toml::comment(s).into_owned()).collect();
                out.push_str(&format!("schemas: {}.\n", names.join(", ")));
            }
            Scope::From(starts) => {
                let names: Vec<String> = starts
                    .iter()
                    .map(|s| toml::comment(&s.shown()).into_owned())
                    .collect();
                out.push_str(&format!(
                    "the foreign-key closure of {}.\n# Sequences: those owned by its tables' columns; `slonik-gen discover --missing` lists the others.\n",
                    names.join(", ")
                ));
            }
        }
        if !self.refused.is_empty() {
            out.push_str("#\n# Refused (no usable key), not in the set:\n");
            for (relation, why) in &self.refused {
                out.push_str(&toml::bullet(&format!("{}: {why}", relation.shown()), 92));
            }
        }
        if !self.skipped.is_empty() {
            out.push_str("#\n# Skipped:\n");
            for (relation, why) in &self.skipped {
                out.push_str(&toml::bullet(&format!("{}: {why}", relation.shown()), 92));
            }
        }
        out.push_str(&format!(
            "\n[[set]]\nid = {}\nname = {}\n",
            set.id,
            toml::string(&set.name)
        ));
        let inline: Vec<&FoundTable> = match tables_file {
            Some(file) => {
                out.push_str(&format!(
                    "# One `schema.name` a line; a relative path is relative to the config's directory.\ntables_file = {}\n",
                    toml::string(file)
                ));
                let listed: Vec<&FoundTable> = self.listable().collect();
                self.tables.iter().filter(|t| !listed.contains(t)).collect()
            }
            None => self.tables.iter().collect(),
        };
        if tables_file.is_none() || !inline.is_empty() {
            if tables_file.is_some() {
                out.push_str("# Tables a list file cannot name (a key, or an odd name):\n");
            }
            out.push_str("tables = [\n");
            for table in inline {
                out.push_str(&format!("  {},\n", entry(&table.relation, table.key.as_deref())));
            }
            out.push_str("]\n");
        }
        if !self.sequences.is_empty() {
            out.push_str("sequences = [\n");
            for sequence in &self.sequences {
                out.push_str(&format!("  {},", entry(&sequence.relation, None)));
                if let Some((table, column, how)) = &sequence.owner {
                    let how = match how {
                        Ownership::Identity => "identity column",
                        Ownership::Serial => "serial column",
                        Ownership::OwnedBy => "owned by column",
                    };
                    out.push_str(&format!(
                        "  # {how} {}",
                        toml::comment(&format!("{}.{}", table.shown(), column))
                    ));
                }
                out.push('\n');
            }
            out.push_str("]\n");
        }
        out
    }

    /// What stderr says about the refused tables (none when there are none).
    pub fn refused_lines(&self) -> Vec<String> {
        self.refused
            .iter()
            .map(|(relation, why)| format!("table {} is not in the set: {why}", relation.shown()))
            .collect()
    }
}

/// The tables (ordinary) and sequences of `schemas` that are not in `in_sets`, as
/// `table schema.name` / `sequence schema.name` lines, sorted.
pub fn missing(snapshot: &Snapshot, schemas: &BTreeSet<String>, in_sets: &BTreeSet<Relation>) -> Vec<String> {
    let mut lines: Vec<(Relation, &str)> = snapshot
        .relations
        .iter()
        .filter(|r| schemas.contains(&r.relation.schema) && !in_sets.contains(&r.relation))
        .filter_map(|r| match r.kind {
            Kind::Table => Some((r.relation.clone(), "table")),
            Kind::Sequence => Some((r.relation.clone(), "sequence")),
            _ => None,
        })
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(relation, what)| format!("{what} {}", relation.shown()))
        .collect()
}

/// Reads the [`Snapshot`] of the database at `conninfo` within `timeout` to connect.
/// Errors name no password; the caller prefixes the shown conninfo.
#[cfg(feature = "import-live")]
pub fn read_snapshot(conninfo: &str, timeout: Option<std::time::Duration>) -> Result<Snapshot, String> {
    use super::{libpq, with_causes};
    let mut client = libpq::connect(conninfo, timeout)?;
    client
        .batch_execute("select pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)")
        .map_err(|e| format!("cannot pin the search_path: {}", with_causes(&e)))?;
    let reading = |e: postgres::Error| format!("reading the catalog: {}", with_causes(&e));
    let mut snapshot = Snapshot::default();
    let rows = client
        .query(
            "select c.oid::pg_catalog.int8, n.nspname::pg_catalog.text, c.relname::pg_catalog.text, c.relkind::pg_catalog.text
             from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where c.relkind::pg_catalog.text = any($1)
               and n.nspname <> 'information_schema' and n.nspname::pg_catalog.text !~ '^pg_'",
            &[&vec!["r", "p", "v", "m", "f", "S"]],
        )
        .map_err(reading)?;
    for row in rows {
        let relkind: String = row.get(3);
        if let Some(kind) = Kind::of_relkind(&relkind) {
            snapshot.relations.push(SnapshotRelation {
                oid: row.get(0),
                relation: Relation::new(row.get::<_, String>(1), row.get::<_, String>(2)),
                kind,
            });
        }
    }
    let rows = client
        .query(
            "select i.indrelid::pg_catalog.int8, ic.relname::pg_catalog.text, i.indisprimary,
                    i.indnatts::pg_catalog.int4,
                    i.indisvalid and i.indimmediate and i.indpred is null and i.indexprs is null
                    and not (0::pg_catalog.int2 = any (i.indkey::pg_catalog.int2[]))
                    and not exists (select 1 from pg_catalog.pg_attribute a
                                    where a.attrelid = i.indrelid
                                      and a.attnum = any (i.indkey::pg_catalog.int2[])
                                      and not a.attnotnull)
             from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid
             where i.indisunique",
            &[],
        )
        .map_err(reading)?;
    for row in rows {
        snapshot.indexes.push(UniqueIndex {
            table: row.get(0),
            name: row.get(1),
            primary: row.get(2),
            columns: row.get(3),
            usable: row.get(4),
        });
    }
    let rows = client
        .query(
            "select c.conrelid::pg_catalog.int8, c.confrelid::pg_catalog.int8
             from pg_catalog.pg_constraint c where c.contype = 'f'",
            &[],
        )
        .map_err(reading)?;
    snapshot.foreign_keys = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let rows = client
        .query(
            "select d.objid::pg_catalog.int8, d.refobjid::pg_catalog.int8, a.attname::pg_catalog.text,
                    a.attidentity <> '',
                    exists (select 1 from pg_catalog.pg_attrdef ad join pg_catalog.pg_depend dd
                              on dd.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass and dd.objid = ad.oid
                            where ad.adrelid = a.attrelid and ad.adnum = a.attnum
                              and dd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                              and dd.refobjid = d.objid)
             from pg_catalog.pg_depend d
             join pg_catalog.pg_class s on s.oid = d.objid
             join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
             where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
               and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               and s.relkind = 'S' and d.deptype::pg_catalog.text = any($1) and d.refobjsubid > 0",
            &[&vec!["a", "i"]],
        )
        .map_err(reading)?;
    for row in rows {
        let identity: bool = row.get(3);
        let serial: bool = row.get(4);
        snapshot.owners.push(SequenceOwner {
            sequence: row.get(0),
            table: row.get(1),
            column: row.get(2),
            how: if identity {
                Ownership::Identity
            } else if serial {
                Ownership::Serial
            } else {
                Ownership::OwnedBy
            },
        });
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(table: i64, name: &str, primary: bool, columns: i32, usable: bool) -> UniqueIndex {
        UniqueIndex {
            table,
            name: name.into(),
            primary,
            columns,
            usable,
        }
    }

    fn rel(oid: i64, schema: &str, name: &str, kind: Kind) -> SnapshotRelation {
        SnapshotRelation {
            oid,
            relation: Relation::new(schema, name),
            kind,
        }
    }

    #[test]
    fn the_key_is_the_primary_key_else_the_shortest_usable_index_then_by_name() {
        let pk = index(1, "t_pkey", true, 1, true);
        let wide = index(1, "a_wide", false, 2, true);
        let b = index(1, "b_narrow", false, 1, true);
        let a = index(1, "a_narrow", false, 1, true);
        let nullable = index(1, "0_nullable", false, 1, false);
        assert_eq!(choose_key([&wide, &pk, &nullable]), Key::Primary);
        assert_eq!(
            choose_key([&wide, &b, &a, &nullable]),
            Key::Index("a_narrow".into())
        );
        assert_eq!(choose_key([&wide, &nullable]), Key::Index("a_wide".into()));
        match choose_key([&nullable]) {
            Key::Refused(why) => assert!(
                why.contains("0_nullable") && why.contains("add a primary key"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        match choose_key([]) {
            Key::Refused(why) => assert!(why.starts_with("no primary key and no unique index"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_closure_follows_foreign_keys_both_ways_and_transitively() {
        // 1 -> 2 -> 3, 4 -> 2, 5 -> 6 (apart), 7 alone, a cycle 8 <-> 9.
        let fks = [(1, 2), (2, 3), (4, 2), (5, 6), (8, 9), (9, 8)];
        assert_eq!(closure(&[3], &fks), BTreeSet::from([1, 2, 3, 4]));
        assert_eq!(closure(&[1], &fks), BTreeSet::from([1, 2, 3, 4]));
        assert_eq!(closure(&[6], &fks), BTreeSet::from([5, 6]));
        assert_eq!(closure(&[7], &fks), BTreeSet::from([7]));
        assert_eq!(closure(&[9], &fks), BTreeSet::from([8, 9]));
        assert_eq!(closure(&[7, 5], &fks), BTreeSet::from([5, 6, 7]));
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            relations: vec![
                rel(1, "app", "orders", Kind::Table),
                rel(2, "app", "customers", Kind::Table),
                rel(3, "ref", "country", Kind::Table),
                rel(4, "app", "nokey", Kind::Table),
                rel(5, "app", "Odd \"Name\". x", Kind::Table),
                rel(6, "app", "orders_id_seq", Kind::Sequence),
                rel(7, "app", "free_seq", Kind::Sequence),
                rel(8, "app", "v", Kind::View),
                rel(9, "app", "parted", Kind::Partitioned),
                rel(10, "app", "loose", Kind::Table),
                rel(11, "my.schema", "t#1", Kind::Table),
            ],
            indexes: vec![
                index(1, "orders_pkey", true, 1, true),
                index(2, "customers_pkey", true, 1, true),
                index(3, "country_code", false, 1, true),
                index(5, "odd pkey", true, 1, true),
                index(10, "loose_pkey", true, 1, true),
                index(11, "t#1 \"u\"", false, 1, true),
            ],
            foreign_keys: vec![(1, 2), (2, 3)],
            owners: vec![SequenceOwner {
                sequence: 6,
                table: 1,
                column: "id".into(),
                how: Ownership::Serial,
            }],
        }
    }

    #[test]
    fn a_schema_scope_sorts_tables_keys_refusals_and_skips() {
        let found = discover(&snapshot(), &Scope::Schemas(vec!["app".into(), "ref".into()])).unwrap();
        let names: Vec<&str> = found.tables.iter().map(|t| t.relation.name.as_str()).collect();
        assert_eq!(
            names,
            ["Odd \"Name\". x", "customers", "loose", "orders", "country"]
        );
        assert_eq!(found.tables[4].key.as_deref(), Some("country_code"));
        assert_eq!(found.refused.len(), 1);
        assert_eq!(found.refused[0].0.name, "nokey");
        let skipped: Vec<&str> = found.skipped.iter().map(|s| s.0.name.as_str()).collect();
        assert_eq!(skipped, ["parted", "v"]);
        let seqs: Vec<&str> = found.sequences.iter().map(|s| s.relation.name.as_str()).collect();
        assert_eq!(seqs, ["free_seq", "orders_id_seq"]);
        assert_eq!(found.sequences[1].owner.as_ref().unwrap().2, Ownership::Serial);
        assert!(found.empty_schemas.is_empty());
        let found = discover(&snapshot(), &Scope::Schemas(vec!["App".into(), "app".into()])).unwrap();
        assert_eq!(found.empty_schemas, ["App"]);
    }

    #[test]
    fn a_from_scope_takes_the_closure_across_schemas_and_its_owned_sequences() {
        let found = discover(&snapshot(), &Scope::From(vec![Relation::new("app", "orders")])).unwrap();
        let names: Vec<String> = found.tables.iter().map(|t| t.relation.shown()).collect();
        assert_eq!(names, ["app.customers", "app.orders", "ref.country"]);
        let seqs: Vec<String> = found.sequences.iter().map(|s| s.relation.shown()).collect();
        assert_eq!(seqs, ["app.orders_id_seq"]);
        let error = discover(&snapshot(), &Scope::From(vec![Relation::new("app", "nothere")])).unwrap_err();
        assert!(
            error.contains("app.nothere") && error.contains("no such table"),
            "{error}"
        );
        let error = discover(&snapshot(), &Scope::From(vec![Relation::new("app", "v")])).unwrap_err();
        assert!(error.contains("not a table"), "{error}");
    }

    #[test]
    fn the_fragment_round_trips_odd_names_through_toml() {
        let found = discover(
            &snapshot(),
            &Scope::Schemas(vec!["app".into(), "my.schema".into()]),
        )
        .unwrap();
        let set = SetHeader {
            name: "set \"one\"".into(),
            id: 7,
        };
        let text = found.to_toml(&set, "host=a password=***", None);
        let value: ::toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        let set = &value["set"].as_array().unwrap()[0];
        assert_eq!(set["id"].as_integer(), Some(7));
        assert_eq!(set["name"].as_str(), Some("set \"one\""));
        let tables = set["tables"].as_array().unwrap();
        assert_eq!(tables[0].as_str(), Some("app.Odd \"Name\". x"));
        assert_eq!(tables[1].as_str(), Some("app.customers"));
        let odd = tables.last().unwrap().as_table().unwrap();
        assert_eq!(odd["schema"].as_str(), Some("my.schema"));
        assert_eq!(odd["name"].as_str(), Some("t#1"));
        assert_eq!(odd["key"].as_str(), Some("t#1 \"u\""));
        let seqs = set["sequences"].as_array().unwrap();
        assert_eq!(seqs.len(), 2);
        assert!(
            text.contains("\"app.orders_id_seq\",  # serial column app.orders.id\n"),
            "{text}"
        );
        assert!(
            text.contains("# - app.nokey: no primary key and no unique index"),
            "{text}"
        );
        assert!(text.contains("# - app.parted: partitioned table"), "{text}");
        assert!(!text.contains("nokey\""), "{text}");
    }

    #[test]
    fn control_characters_in_names_stay_out_of_comments_and_round_trip_in_values() {
        let snapshot = Snapshot {
            relations: vec![
                rel(1, "s", "bad\nname = 1", Kind::Table),
                rel(2, "s", "nokey\n[[set]]", Kind::Table),
            ],
            indexes: vec![index(1, "k", true, 1, true)],
            ..Snapshot::default()
        };
        let found = discover(&snapshot, &Scope::Schemas(vec!["s".into()])).unwrap();
        let text = found.to_toml(
            &SetHeader {
                name: "set1".into(),
                id: 1,
            },
            "x",
            None,
        );
        let value: ::toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(value["set"].as_array().unwrap().len(), 1, "{text}");
        let tables = value["set"][0]["tables"].as_array().unwrap();
        assert_eq!(tables[0].as_str(), Some("s.bad\nname = 1"));
        assert!(text.contains("nokey\\u{000A}[[set]]"), "{text}");
    }

    #[test]
    fn a_tables_file_takes_the_listable_tables_and_the_rest_stays_inline() {
        let found = discover(
            &snapshot(),
            &Scope::Schemas(vec!["app".into(), "ref".into(), "my.schema".into()]),
        )
        .unwrap();
        assert_eq!(
            found.tables_file(),
            "app.Odd \"Name\". x\napp.customers\napp.loose\napp.orders\n"
        );
        let text = found.to_toml(
            &SetHeader {
                name: "set1".into(),
                id: 1,
            },
            "x",
            Some("set1.tables"),
        );
        let value: ::toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        let set = &value["set"][0];
        assert_eq!(set["tables_file"].as_str(), Some("set1.tables"));
        let inline = set["tables"].as_array().unwrap();
        assert_eq!(inline.len(), 2, "{text}");
        assert_eq!(inline[0]["key"].as_str(), Some("t#1 \"u\""));
        assert_eq!(inline[1]["key"].as_str(), Some("country_code"));
    }

    #[test]
    fn missing_lists_unreplicated_tables_and_sequences_of_the_schemas() {
        let in_sets = BTreeSet::from([
            Relation::new("app", "orders"),
            Relation::new("app", "orders_id_seq"),
        ]);
        let schemas = BTreeSet::from(["app".to_string()]);
        let lines = missing(&snapshot(), &schemas, &in_sets);
        assert_eq!(
            lines,
            [
                "table app.Odd \"Name\". x",
                "table app.customers",
                "sequence app.free_seq",
                "table app.loose",
                "table app.nokey",
            ]
        );
        let all: BTreeSet<Relation> = snapshot().relations.into_iter().map(|r| r.relation).collect();
        assert!(missing(&snapshot(), &schemas, &all).is_empty());
    }
}
