//! Parse phase: tokens → [`Pipeline`], with errors under the offending token.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token, token};

/// A pipeline: steps joined by `|`; each later step receives the previous step's `Run`.
///
/// ```text
/// pipeline := step ('|' step)*
/// step     := IDENT ['(' arg (',' arg)* ')']
/// arg      := any Rust expression in `pipeline!`;
///             at the prompt: string | number | true | false | IDENT | IDENT '(' arg, … ')'
/// ```
pub struct Pipeline {
    /// The steps in order; never empty once parsed.
    pub steps: Vec<Step>,
}

/// One step: a name (`pretty`) or a call (`ls(hs, "/", "-la")`).
pub struct Step {
    /// The function the step calls.
    pub name: Ident,
    /// The parenthesised arguments, when the step is written as a call.
    pub args: Option<StepArgs>,
}

/// The `( … )` of a step written as a call.
pub struct StepArgs {
    /// The parentheses, for errors about the argument list as a whole.
    pub paren: token::Paren,
    /// The arguments as written.
    pub list: Punctuated<Expr, Token![,]>,
}

impl Step {
    /// The span of the whole step, name and arguments.
    pub fn span(&self) -> Span {
        match &self.args {
            Some(args) => self.name.span().join(args.paren.span.close()).unwrap_or_else(|| self.name.span()),
            None => self.name.span(),
        }
    }
}

/// An example for messages, so that every error shows the shape it expected.
const EXAMPLE: &str = "e.g. `ls(hs, \"/\", \"-la\") | pretty`";

impl Parse for Pipeline {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("empty pipeline: expected at least one step, {EXAMPLE}"),
            ));
        }
        let mut steps = vec![input.parse::<Step>()?];
        while !input.is_empty() {
            if input.peek(Token![||]) {
                return Err(doubled_pipe(input.parse::<Token![||]>()?.span()));
            }
            let Ok(pipe) = input.parse::<Token![|]>() else {
                let after = &steps[steps.len() - 1].name;
                return Err(
                    input.error(format!("expected `|` or the end of the pipeline after step `{after}`"))
                );
            };
            if input.is_empty() {
                return Err(syn::Error::new(
                    pipe.span,
                    "trailing `|`: expected a step after it (or remove it)",
                ));
            }
            if input.peek(Token![|]) || input.peek(Token![||]) {
                return Err(doubled_pipe(
                    input.cursor().token_tree().map_or(pipe.span, |(tree, _)| tree.span()),
                ));
            }
            steps.push(input.parse()?);
        }
        Ok(Pipeline { steps })
    }
}

fn doubled_pipe(span: Span) -> syn::Error {
    syn::Error::new(span, "doubled `|`: expected a step between the two pipes (or remove one)")
}

impl Parse for Step {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident) {
            return Err(input.error(format!(
                "expected a step: a name like `pretty` or a call like `pick(successful)`, {EXAMPLE}"
            )));
        }
        let name: Ident = input.parse()?;
        if input.peek(token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            let list = Punctuated::parse_terminated(&content)?;
            return Ok(Step { name, args: Some(StepArgs { paren, list }) });
        }
        if input.peek(Token![::])
            || input.peek(Token![.])
            || input.peek(Token![!])
            || input.peek(token::Bracket)
        {
            return Err(input.error(format!(
                "a step is a plain name or call, like `{name}` or `{name}(…)`; paths, methods, macros and indexing \
                 are not steps (wrap them in a function)"
            )));
        }
        Ok(Step { name, args: None })
    }
}
