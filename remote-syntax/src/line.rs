//! Prompt lines: text → tokens → [`Pipeline`] (the macro's own parser) → an owned form with columns.

use std::fmt;
use std::str::FromStr;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::{Expr, Lit, UnOp};

use crate::parse::{Pipeline, Step};
use crate::validate::validate;

/// Longest line the prompt accepts; a pipeline is one line, not a program.
const MAX_LINE_CHARS: usize = 16 * 1024;
/// Deepest bracket nesting the prompt accepts, so parsing cannot exhaust the stack.
const MAX_NESTING: usize = 32;

/// Columns of a piece of the line: 1-based, in characters, `end` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    /// First column of the piece.
    pub start: usize,
    /// Column just after the piece.
    pub end: usize,
}

/// A parsed prompt line.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The steps in order; never empty.
    pub steps: Vec<LineStep>,
}

/// One step of a prompt line.
#[derive(Clone, Debug, PartialEq)]
pub struct LineStep {
    /// The step's name.
    pub name: String,
    /// Where the name is.
    pub at: Columns,
    /// The arguments as written (empty for a bare name).
    pub args: Vec<Arg>,
}

/// One argument at the prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// What the argument is.
    pub kind: ArgKind,
    /// Where it is.
    pub at: Columns,
}

/// The argument forms the prompt understands.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgKind {
    /// `"text"`, with escapes resolved.
    Str(String),
    /// `42`, `-1`.
    Int(i64),
    /// `0.5`, `-2.5`.
    Float(f64),
    /// `true`, `false`.
    Bool(bool),
    /// A bare name: a group, a predicate, a selector.
    Name(String),
    /// `name(arg, …)`, e.g. `stdout_has("debian")`.
    Call { name: String, name_at: Columns, args: Vec<Arg> },
    /// `[arg, …]`, e.g. the fields of a stock: `stock("CPU", [usr, sys])`.
    List(Vec<Arg>),
}

/// Why a line is not a pipeline, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong and what was expected.
    pub message: String,
    /// Where.
    pub at: Columns,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (column {})", self.message, self.at.start)
    }
}

impl std::error::Error for SyntaxError {}

/// Parses one prompt line with the same grammar and rules as `pipeline!`.
pub fn parse_line(text: &str) -> Result<Line, SyntaxError> {
    let whole = Columns { start: 1, end: text.chars().count() + 1 };
    if text.contains('\n') {
        return Err(SyntaxError {
            message: "a pipeline is one line; remove the line break".into(),
            at: whole,
        });
    }
    if whole.end - 1 > MAX_LINE_CHARS {
        return Err(SyntaxError {
            message: format!("line too long: a pipeline has at most {MAX_LINE_CHARS} characters"),
            at: whole,
        });
    }
    let result = parse_tokens(text, whole);
    // Spans outside a proc macro live in a per-thread source map that only grows; a long-lived prompt
    // would keep every line it ever read. Every span has been turned into columns by now.
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

fn parse_tokens(text: &str, whole: Columns) -> Result<Line, SyntaxError> {
    let tokens = TokenStream::from_str(text).map_err(|err| SyntaxError {
        message: "cannot read this as tokens: is a string or bracket left open?".into(),
        at: columns(err.span(), whole),
    })?;
    if let Some(span) = too_deep(&tokens) {
        return Err(SyntaxError {
            message: format!("brackets nest deeper than {MAX_NESTING} levels"),
            at: columns(span, whole),
        });
    }
    if let Some(span) = foreign_token(&tokens) {
        return Err(not_at_prompt(columns(span, whole)));
    }
    let to_error = |err: syn::Error| SyntaxError { message: err.to_string(), at: columns(err.span(), whole) };
    let pipeline: Pipeline = syn::parse2(tokens).map_err(to_error)?;
    validate(&pipeline).map_err(to_error)?;
    let steps = pipeline.steps.iter().map(|step| line_step(step, whole)).collect::<Result<_, _>>()?;
    Ok(Line { steps })
}

/// The first group nested deeper than [`MAX_NESTING`], found without recursion.
fn too_deep(tokens: &TokenStream) -> Option<Span> {
    let mut stack = vec![(tokens.clone().into_iter(), 0usize)];
    while let Some((mut trees, depth)) = stack.pop() {
        while let Some(tree) = trees.next() {
            if let TokenTree::Group(group) = tree {
                if depth + 1 > MAX_NESTING {
                    return Some(group.span());
                }
                let inner = group.stream().into_iter();
                stack.push((trees, depth));
                stack.push((inner, depth + 1));
                break;
            }
        }
    }
    None
}

/// The first token no prompt line can use. Checked before syn parses, so that Rust-only syntax such as
/// thousands of prefix operators or method calls cannot make the parser recurse deeply.
fn foreign_token(tokens: &TokenStream) -> Option<Span> {
    let mut stack = vec![(tokens.clone().into_iter().peekable(), true)];
    while let Some((mut trees, top_level)) = stack.pop() {
        while let Some(tree) = trees.next() {
            match tree {
                TokenTree::Ident(_) | TokenTree::Literal(_) => {}
                // Parentheses hold a call's arguments; brackets a list, which is only ever an argument.
                TokenTree::Group(group)
                    if group.delimiter() == Delimiter::Parenthesis
                        || (group.delimiter() == Delimiter::Bracket && !top_level) =>
                {
                    let inner = group.stream().into_iter().peekable();
                    stack.push((trees, top_level));
                    stack.push((inner, false));
                    break;
                }
                TokenTree::Group(group) => return Some(group.span()),
                TokenTree::Punct(punct) => {
                    let allowed = match punct.as_char() {
                        ',' | '|' => true,
                        // A minus sign belongs to a number: `-1`, `-0.5`.
                        '-' => matches!(trees.peek(), Some(TokenTree::Literal(_))),
                        // Between steps these make a path, method or macro, which the grammar explains
                        // better than a generic message; inside arguments they are Rust-only.
                        ':' | '.' | '!' => top_level,
                        _ => false,
                    };
                    if !allowed {
                        return Some(punct.span());
                    }
                }
            }
        }
    }
    None
}

fn line_step(step: &Step, whole: Columns) -> Result<LineStep, SyntaxError> {
    let args = match &step.args {
        Some(args) => args.list.iter().map(|expr| arg(expr, whole)).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(LineStep { name: step.name.to_string(), at: columns(step.name.span(), whole), args })
}

/// Turns one Rust expression into a prompt argument, or says why the prompt cannot take it.
fn arg(expr: &Expr, whole: Columns) -> Result<Arg, SyntaxError> {
    let at = columns(expr.span(), whole);
    let kind = match expr {
        Expr::Lit(lit) => literal(&lit.lit, false, at)?,
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match &*unary.expr {
            Expr::Lit(lit) if matches!(lit.lit, Lit::Int(_) | Lit::Float(_)) => literal(&lit.lit, true, at)?,
            _ => return Err(not_at_prompt(at)),
        },
        Expr::Path(path) if path.qself.is_none() => match path.path.get_ident() {
            Some(ident) => ArgKind::Name(ident.to_string()),
            None => return Err(not_at_prompt(at)),
        },
        Expr::Call(call) => {
            let Expr::Path(func) = &*call.func else {
                return Err(not_at_prompt(at));
            };
            let Some(name) = func.path.get_ident() else {
                return Err(not_at_prompt(at));
            };
            let args = call.args.iter().map(|inner| arg(inner, whole)).collect::<Result<_, _>>()?;
            ArgKind::Call { name: name.to_string(), name_at: columns(name.span(), whole), args }
        }
        Expr::Array(list) => {
            ArgKind::List(list.elems.iter().map(|inner| arg(inner, whole)).collect::<Result<_, _>>()?)
        }
        _ => return Err(not_at_prompt(at)),
    };
    Ok(Arg { kind, at })
}

fn literal(lit: &Lit, negative: bool, at: Columns) -> Result<ArgKind, SyntaxError> {
    let sign = if negative { "-" } else { "" };
    let bad_number = |what: &str| SyntaxError { message: format!("{what}: {sign}{}", lit_text(lit)), at };
    match lit {
        // No command line, path or channel can carry a NUL, and one sent over SSH drops the host's
        // connection, which other commands share: refused before anything runs.
        Lit::Str(text) if text.suffix().is_empty() && text.value().contains('\0') => Err(SyntaxError {
            message: "a string may not hold a NUL byte (`\\0`, `\\x00`, `\\u{0}`): no host could be given it; remove it".into(),
            at,
        }),
        Lit::Str(text) if text.suffix().is_empty() => Ok(ArgKind::Str(text.value())),
        Lit::Int(int) if int.suffix().is_empty() => format!("{sign}{}", int.base10_digits())
            .parse()
            .map(ArgKind::Int)
            .map_err(|_| bad_number("integer out of range (64 bits)")),
        Lit::Float(float) if float.suffix().is_empty() => {
            format!("{sign}{}", float.base10_digits()).parse().map(ArgKind::Float).map_err(|_| bad_number("not a number"))
        }
        Lit::Bool(flag) => Ok(ArgKind::Bool(flag.value)),
        Lit::Int(_) | Lit::Float(_) | Lit::Str(_) => Err(SyntaxError {
            message: "literal suffixes (like `5u8` or `\"x\"y`) are Rust-only; write the plain value".into(),
            at,
        }),
        _ => Err(not_at_prompt(at)),
    }
}

fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Int(int) => int.base10_digits().to_string(),
        Lit::Float(float) => float.base10_digits().to_string(),
        _ => String::new(),
    }
}

fn not_at_prompt(at: Columns) -> SyntaxError {
    SyntaxError {
        message: "at the prompt an argument is a string, a number, true or false, a name, a call like `stdout_has(\"x\")` \
                  or a list like `[usr, sys]`; other Rust expressions work only in `pipeline!`"
            .into(),
        at,
    }
}

/// The columns a span covers; spans without a place (the end of input) cover the whole line.
fn columns(span: Span, whole: Columns) -> Columns {
    let (start, end) = (span.start(), span.end());
    if start.line == 0 {
        return whole;
    }
    let start_column = start.column + 1;
    let end_column = if end.line == start.line { (end.column + 1).max(start_column + 1) } else { whole.end };
    Columns { start: start_column, end: end_column }
}
