//! Expand phase: a validated [`Pipeline`] becomes a block of `let` bindings, one per step.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use remote_syntax::Pipeline;
use syn::Ident;

/// Expands the pipeline. On a validation error it expands to that error and a diverging placeholder
/// of the right type, so the user sees the one error and not a cascade of follow-on ones.
pub fn expand(pipeline: &Pipeline, checked: syn::Result<()>) -> TokenStream {
    if let Err(err) = checked {
        let error = err.to_compile_error();
        return quote!({ #error ::core::unreachable!() });
    }
    // Mixed-site hygiene: the user's argument expressions cannot see or shadow the threaded run.
    let run = Ident::new("__remote_run", Span::mixed_site());
    let mut body = TokenStream::new();
    for (index, step) in pipeline.steps.iter().enumerate() {
        let name = &step.name;
        let args = step.args.iter().flat_map(|args| args.list.iter());
        // Spanned on the step's name, so a step that does not return a `Run` is reported under it.
        let call = if index == 0 {
            quote_spanned!(name.span()=> #name(#(#args),*))
        } else {
            quote_spanned!(name.span()=> #name(#run #(, #args)*))
        };
        body.extend(quote_spanned!(name.span()=> let #run: ::remote_core::Run = #call;));
    }
    quote!({
        #body
        #run
    })
}
