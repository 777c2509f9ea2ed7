//! The operation registry: the built-ins declared in remote-std plus what a library of pipelines exports;
//! `remote list` prints it, completion offers it, and the prompt's interpreter resolves names in it.

use std::ops::Deref;

use crate::catalog::{self, CallError, Export, Invoke, Library};
use crate::fields::{self, Select};

use crate::catalog::Kind;

/// What to say of `name` once a reload removed it from ops: the same words whether the name was checked
/// before the reload or called after it, so that a job failing for that reason is told once.
pub fn removed_message(name: &str) -> String {
    CallError::Removed { name: name.to_string() }.to_string()
}

/// How the interpreter calls an entry.
#[derive(Clone, Copy)]
pub(crate) enum Callable {
    /// A built-in, declared in this binary's copy of remote-std: called directly.
    Builtin(Invoke),
    /// Exported by `ops`; called through [`Library::invoke`].
    Library,
    /// A field selector of this copy of remote-core.
    Field(Select),
}

/// One name the prompt and `remote list` know: what it is, and how to call it.
#[derive(Clone)]
pub struct Entry {
    export: Export,
    pub(crate) callable: Callable,
}

impl Deref for Entry {
    type Target = Export;
    fn deref(&self) -> &Export {
        &self.export
    }
}

/// Built-ins plus what a library exports. An export named like a built-in takes its place, as the
/// user's own function does over the prelude's inside `ops`, so a name means the same in both backends.
pub struct Registry {
    entries: Vec<Entry>,
    removed: Vec<String>,
}

impl Registry {
    /// The built-ins and the exports of `library`, if any.
    pub fn new(library: Option<&dyn Library>) -> Self {
        // Only this binary's own built-ins are called directly: a loaded library's copies would be unloaded
        // by a reload.
        let mut entries: Vec<Entry> = catalog::declared()
            .into_iter()
            .filter(|d| d.is_builtin())
            .map(|d| Entry { export: d.export(), callable: Callable::Builtin(d.invoke) })
            .collect();
        entries.extend(fields::ALL.iter().map(|select| {
            let field = select();
            let doc = format!("{}: {}", field.kind, field.doc);
            let export =
                Export { name: field.name.into(), kind: Kind::Field, params: Vec::new(), doc, data: None };
            Entry { export, callable: Callable::Field(*select) }
        }));
        let mut removed = Vec::new();
        if let Some(library) = library {
            for export in library.catalog() {
                let entry = Entry { export, callable: Callable::Library };
                match entries.iter_mut().find(|e| e.name == entry.name) {
                    Some(builtin) => *builtin = entry,
                    None => entries.push(entry),
                }
            }
            removed = library.removed();
        }
        Self { entries, removed }
    }

    /// Every entry, built-ins first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry called `name`.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Whether `name` was a pipeline or step of the library until a reload removed it.
    pub fn was_removed(&self, name: &str) -> bool {
        self.find(name).is_none() && self.removed.iter().any(|r| r == name)
    }
}
