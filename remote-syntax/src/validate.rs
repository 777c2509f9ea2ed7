//! Validate phase: rules a parsed [`Pipeline`] must meet beyond the grammar.

use crate::parse::Pipeline;

/// Checks that the first step names its host set, so the hosts a pipeline runs on are always explicit,
/// and that no later step names it again, since later steps run on the previous step's run.
pub fn validate(pipeline: &Pipeline) -> syn::Result<()> {
    let Some(first) = pipeline.steps.first() else {
        return Ok(());
    };
    let name = &first.name;
    let message = || {
        format!(
            "the first step needs the host set as its first argument: `{name}(hs, …)` in Rust, `{name}(GROUP, …)` at the prompt"
        )
    };
    let host_set = match &first.args {
        None => return Err(syn::Error::new(name.span(), message())),
        Some(args) => match args.list.first() {
            None => return Err(syn::Error::new(args.paren.span.join(), message())),
            Some(host_set) => plain_name(host_set),
        },
    };
    for step in &pipeline.steps[1..] {
        let repeated = step
            .args
            .as_ref()
            .and_then(|args| args.list.first())
            .filter(|arg| host_set.is_some() && plain_name(arg) == host_set);
        if let (Some(arg), Some(host_set)) = (repeated, host_set) {
            return Err(syn::Error::new_spanned(
                arg,
                format!(
                    "`{host_set}` again: a step after `|` runs on the hosts that succeeded in the step before it; remove `{host_set}` here"
                ),
            ));
        }
    }
    Ok(())
}

/// The name an argument consists of, if it is a plain name.
fn plain_name(expr: &syn::Expr) -> Option<&syn::Ident> {
    match expr {
        syn::Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
        _ => None,
    }
}
