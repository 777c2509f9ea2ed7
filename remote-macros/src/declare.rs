//! `#[remote::pipeline]`, `#[remote::step]`, `#[remote::operation]`, `#[remote::predicate]`: parse the
//! function and the attribute's arguments → validate the signature for its kind → expand to the function
//! plus one `Declared` in remote-core's distributed slice, with an adapter that calls it from prompt values.
//!
//! Architecture invariant: everything `remote list` and the prompt know about a declared function is read
//! from the function itself (name, doc comment, parameters); the attribute adds only defaults and, for a
//! built-in operation, the kind of typed data it returns.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, ItemFn, Lit, LitStr, Meta, Pat, ReturnType, Type};

/// What the attribute declares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pipeline,
    JobSet,
    Step,
    Operation,
    Predicate,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Pipeline => "#[remote::pipeline]",
            Kind::JobSet => "#[remote::jobs]",
            Kind::Step => "#[remote::step]",
            Kind::Operation => "#[remote::operation]",
            Kind::Predicate => "#[remote::predicate]",
        }
    }
}

/// The parsed attribute and function.
pub struct Declaration {
    kind: Kind,
    function: ItemFn,
    /// `default(name = "value", …)` from the attribute.
    defaults: Vec<(Ident, LitStr)>,
    /// `data = "cpu"`: the kind of typed data an operation returns, so `remote list` can show its fields.
    data: Option<LitStr>,
}

/// How a parameter's prompt value becomes the Rust argument.
enum Passing {
    /// `T: FromValue`, passed by value.
    Value(Box<Type>),
    /// `&str`: a `String` value, passed by reference.
    Str,
    /// `impl Fn(&HostResult) -> bool`: a `Predicate` value, passed as a closure.
    Test,
    /// `impl Into<T>` with `T: FromValue`, passed as the `T` (so Rust callers may write `85` for an `f64`).
    Into(Box<Type>),
}

/// One parameter that the prompt supplies.
struct Param {
    name: Ident,
    passing: Passing,
    default: Option<LitStr>,
}

/// Parse: the attribute's arguments and the function.
pub fn parse(kind: Kind, attribute: TokenStream, item: TokenStream) -> syn::Result<Declaration> {
    let function: ItemFn = syn::parse2(item)?;
    let mut defaults = Vec::new();
    let mut data = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("data") && kind == Kind::Operation {
            data = Some(meta.value()?.parse::<LitStr>()?);
            Ok(())
        } else if meta.path.is_ident("default") {
            meta.parse_nested_meta(|inner| {
                let Some(name) = inner.path.get_ident().cloned() else {
                    return Err(inner.error("expected a parameter name, as in `default(flags = \"\")`"));
                };
                defaults.push((name, inner.value()?.parse::<LitStr>()?));
                Ok(())
            })
        } else {
            let known = if kind == Kind::Operation {
                "`default(param = \"…\")` and `data = \"kind\"`"
            } else {
                "`default(param = \"…\")`"
            };
            Err(meta.error(format!("unknown argument of {}; it takes {known}", kind.attribute())))
        }
    });
    syn::parse::Parser::parse2(parser, attribute)?;
    Ok(Declaration { kind, function, defaults, data })
}

/// Validate: the signature fits the kind; returns the parameters the prompt supplies.
fn validate(declaration: &Declaration) -> syn::Result<Vec<Param>> {
    let Declaration { kind, function, defaults, .. } = declaration;
    let signature = &function.sig;
    let name = &signature.ident;
    let crate_name = std::env::var("CARGO_CRATE_NAME").unwrap_or_default();
    if matches!(kind, Kind::Operation | Kind::Predicate) && crate_name != "remote_std" {
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "{} declares a built-in of remote-std; in ops, declare a `#[remote::pipeline]` or a `#[remote::step]`",
                kind.attribute()
            ),
        ));
    }
    if let Some(asyncness) = signature.asyncness {
        return Err(syn::Error::new(
            asyncness.span(),
            "pipelines and steps are synchronous functions: remove `async` (the host does the waiting)",
        ));
    }
    if let Some(param) = signature.generics.params.first() {
        return Err(syn::Error::new(
            param.span(),
            "a declared function cannot be generic: the prompt must know every parameter's type (use `impl Fn(&HostResult) -> bool` for a host test)",
        ));
    }
    let mut inputs = Vec::new();
    for input in &signature.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new(receiver.span(), "declare a free function, not a method"));
            }
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(ident) => inputs.push((ident.ident.clone(), (*typed.ty).clone())),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "give this parameter a plain name: the prompt and `remote list` show it",
                    ));
                }
            },
        }
    }
    let returns_bool = matches!(&signature.output, ReturnType::Type(_, ty) if matches!(&**ty, Type::Path(p) if p.path.is_ident("bool")));
    // The parameters before the ones the prompt supplies: the host set, the run, or a predicate's host
    // result.
    let implicit = match kind {
        Kind::Pipeline if inputs.len() != 1 => {
            let span = if inputs.is_empty() { signature.paren_token.span.join() } else { inputs[1].0.span() };
            return Err(syn::Error::new(
                span,
                "a pipeline takes the host set and nothing else: `fn name(hs: &Hosts) -> Run`; with more parameters, make it a `#[remote::step]`",
            ));
        }
        Kind::JobSet if inputs.len() != 1 => {
            return Err(syn::Error::new(
                signature.paren_token.span.join(),
                "a job set takes the host set and nothing else: `fn name(hs: &Hosts) -> Vec<JobSpec>`",
            ));
        }
        Kind::Step | Kind::Operation if inputs.is_empty() => {
            let first = if *kind == Kind::Step { "run: Run" } else { "on: impl Into<On>" };
            return Err(syn::Error::new(
                signature.paren_token.span.join(),
                format!("a {} takes `{first}` first", if *kind == Kind::Step { "step" } else { "operation" }),
            ));
        }
        Kind::Predicate if returns_bool && inputs.len() != 1 => {
            return Err(syn::Error::new(
                signature.paren_token.span.join(),
                "a predicate returning `bool` takes the host's result only: `fn name(result: &HostResult) -> bool`",
            ));
        }
        Kind::Predicate if !returns_bool => 0,
        _ => 1,
    };
    let mut params: Vec<Param> = inputs[implicit..]
        .iter()
        .map(|(name, ty)| Param { name: name.clone(), passing: passing(ty), default: None })
        .collect();
    for (param, value) in defaults {
        let Some(at) = params.iter().position(|p| p.name == *param) else {
            return Err(syn::Error::new(
                param.span(),
                format!("`{name}` has no parameter `{param}` that the prompt passes"),
            ));
        };
        if !is_string(&params[at]) {
            return Err(syn::Error::new(
                param.span(),
                "only string parameters (`&str` or `String`) can have a default",
            ));
        }
        params[at].default = Some(value.clone());
    }
    if let Some(gap) = params.iter().skip_while(|p| p.default.is_none()).find(|p| p.default.is_none()) {
        return Err(syn::Error::new(
            gap.name.span(),
            format!(
                "`{}` has no default but comes after one that has: only trailing parameters can be left out",
                gap.name
            ),
        ));
    }
    Ok(params)
}

fn passing(ty: &Type) -> Passing {
    match ty {
        Type::Reference(reference) if matches!(&*reference.elem, Type::Path(p) if p.path.is_ident("str")) => {
            Passing::Str
        }
        Type::ImplTrait(bounds) => into_target(bounds).map_or(Passing::Test, Passing::Into),
        other => Passing::Value(Box::new(other.clone())),
    }
}

/// `T` of `impl Into<T>`, when that is the only bound.
fn into_target(bounds: &syn::TypeImplTrait) -> Option<Box<Type>> {
    let [syn::TypeParamBound::Trait(bound)] = bounds.bounds.iter().collect::<Vec<_>>().as_slice() else {
        return None;
    };
    let last = bound.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match (last.ident == "Into", arguments.args.iter().collect::<Vec<_>>().as_slice()) {
        (true, [syn::GenericArgument::Type(target)]) => Some(Box::new(target.clone())),
        _ => None,
    }
}

fn is_string(param: &Param) -> bool {
    match &param.passing {
        Passing::Str => true,
        Passing::Value(ty) => matches!(&**ty, Type::Path(p) if p.path.is_ident("String")),
        Passing::Test | Passing::Into(_) => false,
    }
}

/// Expand: the function unchanged, then its declaration. On a validation error, the function and the error,
/// so that the user sees that one error and not follow-on ones about the function.
pub fn expand(declaration: Declaration) -> TokenStream {
    let params = match validate(&declaration) {
        Ok(params) => params,
        Err(err) => {
            let error = err.to_compile_error();
            let function = &declaration.function;
            return quote!(#function #error);
        }
    };
    let data = match &declaration.data {
        Some(kind) => quote!(::core::option::Option::Some(#kind)),
        None => quote!(::core::option::Option::None),
    };
    let Declaration { kind, function, .. } = declaration;
    let name = &function.sig.ident;
    let name_text = name.to_string();
    let core = quote!(::remote_core);
    let docs: Vec<LitStr> = function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(expr) => match &expr.lit {
                    Lit::Str(text) => Some(text.clone()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    let declared_params = params.iter().map(|param| {
        let text = param.name.to_string();
        let ty = match &param.passing {
            Passing::Str => quote!(#core::__private::Type::Str),
            Passing::Test => quote!(#core::__private::Type::Predicate),
            Passing::Value(ty) | Passing::Into(ty) => {
                quote_spanned!(ty.span()=> <#ty as #core::__private::FromValue>::TYPE)
            }
        };
        let default = match &param.default {
            Some(value) => quote!(::core::option::Option::Some(#value)),
            None => quote!(::core::option::Option::None),
        };
        quote!(#core::__private::DeclaredParam { name: #text, ty: #ty, default: #default })
    });
    // Each prompt value is converted (the interpreter has checked its type) and passed as the function wants
    // it.
    let converted: Vec<Ident> = params.iter().map(|p| format_ident!("__remote_{}", p.name)).collect();
    let conversions = params.iter().zip(&converted).map(|(param, local)| {
        let text = param.name.to_string();
        let ty = match &param.passing {
            Passing::Str => quote!(::std::string::String),
            Passing::Test => quote!(#core::__private::Predicate),
            Passing::Value(ty) | Passing::Into(ty) => quote!(#ty),
        };
        // Spanned on the type, so an unsupported one is reported once, where it is written.
        let span = match &param.passing {
            Passing::Value(ty) | Passing::Into(ty) => ty.span(),
            _ => param.name.span(),
        };
        quote_spanned!(span=> let #local: #ty = #core::__private::FromValue::from_value(__remote_args.next(), #text)?;)
    });
    let passed = params.iter().zip(&converted).map(|(param, local)| match &param.passing {
        Passing::Value(_) | Passing::Into(_) => quote!(#local),
        Passing::Str => quote!(&#local),
        Passing::Test => quote!(move |__remote_result: &#core::HostResult| #local.test(__remote_result)),
    });
    let (kind_path, invoke) = match kind {
        Kind::Pipeline => {
            (quote!(Pipeline), quote_spanned!(name.span()=> #core::__private::Invoke::Pipeline(#name)))
        }
        Kind::JobSet => {
            (quote!(JobSet), quote_spanned!(name.span()=> #core::__private::Invoke::JobSet(#name)))
        }
        Kind::Step | Kind::Operation => {
            let (variant, first) = if kind == Kind::Step {
                (quote!(Step), quote!(#core::Run))
            } else {
                (quote!(Operation), quote!(#core::On))
            };
            let call = quote_spanned!(name.span()=> #name(__remote_first #(, #passed)*));
            (
                variant.clone(),
                quote! {{
                    fn __remote_adapter(
                        __remote_first: #first,
                        __remote_args: ::std::vec::Vec<#core::__private::Value>,
                    ) -> ::core::result::Result<#core::Run, #core::__private::ArgumentError> {
                        #[allow(unused_mut, unused_variables)]
                        let mut __remote_args = __remote_args.into_iter();
                        #(#conversions)*
                        ::core::result::Result::Ok(#call)
                    }
                    #core::__private::Invoke::#variant(__remote_adapter)
                }},
            )
        }
        Kind::Predicate => {
            let make = if params.is_empty() && function_returns_bool(&function) {
                quote_spanned!(name.span()=> #core::__private::Predicate::new(#name_text, #name))
            } else {
                let call = quote_spanned!(name.span()=> #name(#(#passed),*));
                quote!(#core::__private::Predicate::new(__remote_described, #call))
            };
            (
                quote!(Predicate),
                quote! {{
                    fn __remote_adapter(
                        __remote_args: ::std::vec::Vec<#core::__private::Value>,
                    ) -> ::core::result::Result<#core::__private::Predicate, #core::__private::ArgumentError> {
                        #[allow(unused_variables)]
                        let __remote_described = #core::__private::describe_call(#name_text, &__remote_args);
                        #[allow(unused_mut, unused_variables)]
                        let mut __remote_args = __remote_args.into_iter();
                        #(#conversions)*
                        ::core::result::Result::Ok(#make)
                    }
                    #core::__private::Invoke::Predicate(__remote_adapter)
                }},
            )
        }
    };
    quote! {
        #function

        const _: () = {
            #[#core::__private::linkme::distributed_slice(#core::__private::DECLARED)]
            #[linkme(crate = #core::__private::linkme)]
            static __REMOTE_DECLARED: #core::__private::Declared = #core::__private::Declared {
                name: #name_text,
                kind: #core::__private::Kind::#kind_path,
                doc: ::core::concat!(#(#docs, "\n"),*),
                params: &[#(#declared_params),*],
                origin: ::core::env!("CARGO_CRATE_NAME"),
                file: ::core::file!(),
                line: ::core::line!(),
                invoke: #invoke,
                data: #data,
            };
        };
    }
}

fn function_returns_bool(function: &ItemFn) -> bool {
    matches!(&function.sig.output, ReturnType::Type(_, ty) if matches!(&**ty, Type::Path(p) if p.path.is_ident("bool")))
}
