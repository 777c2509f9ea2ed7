//! Values the prompt passes to operations and steps, their types, and the conversion into Rust arguments.

use std::fmt;
use std::sync::Arc;

use crate::fields::Select;
use crate::report::HostResult;
use crate::stocks::Stock;

/// The type of a parameter, as `remote list` shows it and the interpreter checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// A string literal.
    Str,
    /// A whole number.
    Int,
    /// A number; whole numbers are accepted too.
    Float,
    /// `true` or `false`.
    Bool,
    /// A test of one host's outcome, e.g. `successful` or `stdout_has("x")`.
    Predicate,
    /// A named number in hosts' typed data, e.g. `idle` or `disk_used_percent`.
    Field,
    /// A chart of one field, `stock("Idle CPU", idle)`.
    Stock,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Str => "string",
            Type::Int => "integer",
            Type::Float => "number",
            Type::Bool => "bool",
            Type::Predicate => "predicate",
            Type::Field => "field",
            Type::Stock => "stock",
        })
    }
}

/// One evaluated argument.
#[derive(Clone, Debug)]
pub enum Value {
    /// A string.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// A flag.
    Bool(bool),
    /// A host test.
    Predicate(Predicate),
    /// A field selector.
    Field(Select),
    /// A chart.
    Stock(Stock),
}

/// A named test of one host's outcome, as `pick` takes it.
#[derive(Clone)]
pub struct Predicate {
    name: String,
    test: Arc<dyn Fn(&HostResult) -> bool + Send + Sync>,
}

impl Predicate {
    /// A predicate called `name` (for messages) that runs `test`.
    pub fn new(name: impl Into<String>, test: impl Fn(&HostResult) -> bool + Send + Sync + 'static) -> Self {
        Self { name: name.into(), test: Arc::new(test) }
    }

    /// Whether `result` passes.
    pub fn test(&self, result: &HostResult) -> bool {
        (self.test)(result)
    }

    /// The name it was made with.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Predicate({})", self.name)
    }
}

/// A Rust parameter type a user step in `ops` may take after its `Run`, so the prompt can call it.
#[diagnostic::on_unimplemented(
    message = "a declared step cannot take a `{Self}`: the prompt passes only strings, numbers, bools, predicates and fields",
    label = "not a type the prompt can pass",
    note = "use `&str`, `String`, `i64`, `f64`, `bool`, `Predicate`, `Select` (a field), `Stock` or `impl Fn(&HostResult) -> bool`"
)]
pub trait FromValue: Sized {
    /// The type the prompt must supply.
    const TYPE: Type;
    /// Converts the evaluated argument (already type-checked by the interpreter; `parameter` names it in
    /// the error when it is not).
    fn from_value(value: Option<Value>, parameter: &str) -> Result<Self, ArgumentError>;
}

/// A value that does not fit the parameter it was passed to. The interpreter checks types before it calls, so
/// this is a caller's bug (or a library built against another catalog), said in words rather than a panic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    /// A value of another type.
    #[error("parameter `{parameter}` wants a {expected}, got {found}")]
    WrongType {
        /// The parameter's name.
        parameter: String,
        /// What it takes.
        expected: Type,
        /// What it was given, as Rust's `Debug` shows it.
        found: String,
    },
    /// No value at all.
    #[error("parameter `{parameter}` is missing (a {expected})")]
    Missing {
        /// The parameter's name.
        parameter: String,
        /// What it takes.
        expected: Type,
    },
}

fn wrong(parameter: &str, expected: Type, value: Option<Value>) -> ArgumentError {
    let parameter = parameter.to_string();
    match value {
        Some(value) => ArgumentError::WrongType { parameter, expected, found: format!("{value:?}") },
        None => ArgumentError::Missing { parameter, expected },
    }
}

/// `FromValue` for a type that one variant of [`Value`] carries as it is.
macro_rules! from_value {
    ($($ty:ty => $variant:ident as $kind:ident),* $(,)?) => {$(
        impl FromValue for $ty {
            const TYPE: Type = Type::$kind;
            fn from_value(value: Option<Value>, parameter: &str) -> Result<Self, ArgumentError> {
                match value {
                    Some(Value::$variant(inner)) => Ok(inner),
                    other => Err(wrong(parameter, Self::TYPE, other)),
                }
            }
        }
    )*};
}

from_value!(
    String => Str as Str,
    i64 => Int as Int,
    bool => Bool as Bool,
    Predicate => Predicate as Predicate,
    Select => Field as Field,
    Stock => Stock as Stock,
);

/// A number: a whole number is accepted too.
impl FromValue for f64 {
    const TYPE: Type = Type::Float;
    fn from_value(value: Option<Value>, parameter: &str) -> Result<Self, ArgumentError> {
        match value {
            Some(Value::Float(number)) => Ok(number),
            Some(Value::Int(number)) => Ok(number as f64),
            other => Err(wrong(parameter, Self::TYPE, other)),
        }
    }
}

/// How a call with these values reads, for a predicate's name: `stdout_has("x")`.
pub fn describe_call(name: &str, values: &[Value]) -> String {
    let values: Vec<String> = values
        .iter()
        .map(|value| match value {
            Value::Str(text) => format!("{text:?}"),
            Value::Int(number) => number.to_string(),
            Value::Float(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            Value::Predicate(predicate) => predicate.name().to_string(),
            Value::Field(select) => select().name.to_string(),
            Value::Stock(stock) => match stock.fields.as_slice() {
                [one] => format!("stock({:?}, {})", stock.title, one.name),
                many => {
                    let names: Vec<&str> = many.iter().map(|f| f.name).collect();
                    format!("stock({:?}, [{}])", stock.title, names.join(", "))
                }
            },
        })
        .collect();
    format!("{name}({})", values.join(", "))
}
