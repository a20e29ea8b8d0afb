#!/usr/bin/env python3
"""Print a crate's public API as sorted text, one line per item, from rustdoc's JSON.

What: every item a user of the crate can name, with its signature: modules, structs and their
pub fields, enums and their variants, traits and their items, functions, inherent methods and
associated consts, type aliases, consts, statics, macros, re-exports of other crates' items,
and the trait impls of the crate's types: written or derived ones, and the auto traits (Send,
Sync, Unpin, UnwindSafe, RefUnwindSafe) the compiler infers, since losing one is a breaking
change. Blanket impls (`impl<T> From<T> for T`, ...) are left out: they say nothing about the
crate.

Why: scripts/public_api.sh compares this text with the snapshot checked in next to each
published crate (`public-api.txt`): an API change shows in code review as a diff of that file,
and CI fails when the snapshot was not updated in the same commit. Standard library only, on
the JSON of the toolchain in use: no tool to compile or download.

How: the walk starts at the crate root and follows public items and re-exports only; items
marked `#[doc(hidden)]` (`__private`, `__fuzz`) are already gone from rustdoc's JSON. An item
reachable by two paths is listed under each. Re-exports of other crates' items (`pub use
axum;`) are one line each and not walked. Types in signatures are named by their full path:
the shortest public path for the crate's own items (and for those of the DEP.json crates),
the defining path for the others' (`core::result::Result`, `alloc::string::String`, even where
a re-export is the usual name). `{ .. }` ends a struct with private fields (no struct literal),
`{ ... }` a provided trait method. Lines are sorted by the item they belong to, then by text;
nothing depends on rustdoc's item ids, so the output is stable.

    RUSTC_BOOTSTRAP=1 cargo rustdoc -p authgate --lib -- -Z unstable-options --output-format json
    python3 scripts/public_api.py target/doc/authgate.json            # CRATE.json [DEP.json...]

To refresh the snapshots after an intended API change: `scripts/public_api.sh --bless`.
Written against rustdoc JSON format_version 57 (Rust 1.95): another version prints a warning,
and a renamed field fails loudly (KeyError) rather than silently dropping items.
"""

import json
import sys

FORMAT_VERSION = 57
AUTO_TRAITS = {"core::marker::Send", "core::marker::Sync", "core::marker::Unpin",
               "core::panic::unwind_safe::UnwindSafe",
               "core::panic::unwind_safe::RefUnwindSafe"}  # not Freeze, UnsafeUnpin: unstable
PROC_MACROS = {"bang": "pub proc_macro", "attr": "pub proc_macro_attribute",
               "derive": "pub proc_macro_derive"}


def one(d):
    """The (variant, value) of a rustdoc enum: a one-key dict, or a bare string."""
    if isinstance(d, str):
        return d, None
    [(k, v)] = d.items()
    return k, v


def join(parts, sep=", "):
    return sep.join(p for p in parts if p)


def shortest(paths):
    return min(paths, key=lambda p: (p.count("::"), p))


def hidden(item):
    return any("doc(hidden)" in json.dumps(a) for a in item["attrs"])


def marker(item):
    return "#[non_exhaustive] " if "non_exhaustive" in item["attrs"] else ""


class Api:
    def __init__(self, doc, deps=()):
        self.index, self.paths = doc["index"], doc["paths"]
        self.root = str(doc["root"])
        self.public = {}   # the crate's item id -> its public paths
        self.lines = {}    # line -> sort key (owner path, rank)
        self.renamed = {}  # a DEP.json item's defining path -> its shortest public path
        for dep in map(Api, deps):
            dep.walk()
            for item_id, paths in dep.public.items():
                if item_id in dep.paths:
                    self.renamed["::".join(dep.paths[item_id]["path"])] = shortest(paths)

    # ---- the walk: which items are public, under which paths ------------------------------
    def walk(self):
        """[(path, item id, None)] for the crate's items, [(path, None, use)] for others'."""
        reached = []
        self.walk_named(self.root, self.index[self.root]["name"], reached, set())
        for path, item_id, _ in reached:
            if item_id:
                self.public.setdefault(item_id, set()).add(path)
        return reached

    def walk_named(self, item_id, path, reached, stack):
        reached.append((path, item_id, None))
        if "module" in self.index[item_id]["inner"] and item_id not in stack:
            for child in self.index[item_id]["inner"]["module"]["items"]:
                self.walk_item(str(child), path, reached, stack | {item_id})

    def walk_item(self, item_id, mod_path, reached, stack):
        item = self.index[item_id]
        if item["visibility"] != "public" or hidden(item):
            return
        kind, use = one(item["inner"])
        target = str(use["id"]) if kind == "use" and use["id"] is not None else None
        if kind != "use":
            self.walk_named(item_id, f"{mod_path}::{item['name']}", reached, stack)
        elif target not in self.index:  # another crate's item: one line, not walked
            reached.append((f"{mod_path}::{'*' if use['is_glob'] else use['name']}", None, use))
        elif not use["is_glob"]:
            self.walk_named(target, f"{mod_path}::{use['name']}", reached, stack)
        elif "module" in self.index[target]["inner"]:
            for child in self.index[target]["inner"]["module"]["items"]:
                self.walk_item(str(child), mod_path, reached, stack | {target})
        else:  # `pub use Enum::*`
            for v in self.index[target]["inner"]["enum"]["variants"]:
                self.walk_named(str(v), f"{mod_path}::{self.index[str(v)]['name']}", reached,
                                stack)

    # ---- items ---------------------------------------------------------------------------
    def emit(self, owner, rank, line):
        if line not in self.lines or (owner, rank) < self.lines[line]:
            self.lines[line] = (owner, rank)

    def render(self):
        for path, item_id, use in self.walk():
            if item_id:
                self.item(self.index[item_id], path)
            else:
                source = self.paths.get(str(use["id"]), {}).get("path")
                source = "::".join(source) if source else use["source"]
                same = source == use["name"] and not use["is_glob"]  # `pub use axum;`
                glob = "::*" if use["is_glob"] else ""
                self.emit(path, 0, f"pub use {path}" + ("" if same else f" = {source}{glob}"))
        return sorted(self.lines, key=lambda line: (self.lines[line], line))

    def item(self, item, path):
        kind, inner = one(item["inner"])
        inner = inner if isinstance(inner, dict) else {}  # a macro's is its source text
        params, where = self.generics(inner.get("generics"))
        line = {"module": f"pub mod {path}",
                "function": lambda: self.function(inner, path),
                "type_alias": lambda: f"pub type {path}{params}{where} = {self.ty(inner['type'])}",
                "constant": lambda: f"pub const {path}: {self.ty(inner['type'])}",
                "static": lambda: f"pub static {'mut ' * inner['is_mutable']}{path}: "
                                  f"{self.ty(inner['type'])}",
                "macro": f"pub macro_rules! {path}",
                "proc_macro": lambda: f"{PROC_MACROS[inner['kind']]} {path}" + (
                    f" attributes({join(inner['helpers'])})" if inner["helpers"] else ""),
                }.get(kind, f"pub {kind} {path}")  # extern types, trait aliases
        if kind in ("struct", "union"):
            skind, shape = one(inner["kind"]) if kind == "struct" else ("plain", inner)
            fields = ";" if skind == "unit" else ""
            if skind == "tuple":  # pub fields by their type, private ones as `_`
                fields = "(" + join("pub " + self.field(f) if f is not None and self.index[
                    str(f)]["visibility"] == "public" else "_" for f in shape) + ")"
            private = skind == "plain" and shape["has_stripped_fields"]  # `{ .. }`: no literal
            line = f"{marker(item)}pub {kind} {path}{params}{fields}{where}" + " { .. }" * private
            for f in shape["fields"] if skind == "plain" else []:
                field = self.index[str(f)]
                if field["visibility"] == "public" and not hidden(field):
                    self.emit(path, 1, f"pub {kind} field {path}::{field['name']}: "
                              f"{self.ty(field['inner']['struct_field'])}")
        elif kind == "enum":
            line = f"{marker(item)}pub enum {path}{params}{where}" + \
                " { .. }" * inner["has_stripped_variants"]
            for v in inner["variants"]:
                self.variant(self.index[str(v)], path)
        elif kind == "variant":  # reached through `pub use Enum::*`
            return self.variant(item, path.rsplit("::", 1)[0])
        elif kind == "trait":
            supers = ": " + self.bounds(inner["bounds"]) if inner["bounds"] else ""
            line = f"pub {'unsafe ' * inner['is_unsafe']}{'auto ' * inner['is_auto']}trait " \
                   f"{path}{params}{supers}{where}"
            for i in inner["items"]:
                self.assoc(path, path, self.index[str(i)], trait=True)
            for i in inner["implementations"]:
                self.impl(path, self.index[str(i)]["inner"]["impl"])
        for i in inner.get("impls", []):
            impl = self.index[str(i)]["inner"]["impl"]
            if impl["trait"] is None:  # `impl<S: Clone> Router<S>`: `Router<S>::f .. where S: ..`
                args = self.args(impl["for"]["resolved_path"]["args"])
                outer = [self.param_bound(p) for p in impl["generics"]["params"]]
                outer += [self.predicate(p) for p in impl["generics"]["where_predicates"]]
                for j in impl["items"]:
                    self.assoc(path, path + args, self.index[str(j)], outer=outer)
            else:
                self.impl(path, impl)
        self.emit(path, 0, line() if callable(line) else line)

    def variant(self, item, enum_path):
        inner = item["inner"]["variant"]
        kind, fields = one(inner["kind"])
        shape = ""
        if kind == "tuple":
            shape = "(" + join(self.field(f) for f in fields) + ")"
        elif kind == "struct":
            names = [f"{self.index[str(f)]['name']}: {self.field(f)}" for f in fields["fields"]]
            shape = " { " + join(names + [".." * fields["has_stripped_fields"]]) + " }"
        if inner["discriminant"]:
            shape += f" = {inner['discriminant']['expr']}"
        self.emit(enum_path, 1,
                  f"{marker(item)}pub enum variant {enum_path}::{item['name']}{shape}")

    def field(self, field_id):
        if field_id is None:
            return "_"
        return self.ty(self.index[str(field_id)]["inner"]["struct_field"])

    def assoc(self, owner, prefix, item, trait=False, outer=()):
        """A trait's item, or a public item of an inherent impl, named `Type::item`."""
        if not trait and (item["visibility"] != "public" or hidden(item)):
            return
        kind, val = one(item["inner"])
        name = f"{prefix}::{item['name']}"
        if kind == "function":  # `{ ... }`: provided, impls may leave it out
            line = self.function(val, name, outer) + " { ... }" * (trait and val["has_body"])
        elif kind == "assoc_const":
            line = f"pub const {name}: {self.ty(val['type'])}" + \
                   " = ..." * (trait and val["value"] is not None)
        else:
            line = self.assoc_type(val, name, "pub type ")
        self.emit(owner, 2, line)

    def assoc_type(self, val, name, prefix):
        params, where = self.generics(val["generics"])
        bounds = ": " + self.bounds(val["bounds"]) if val.get("bounds") else ""
        default = f" = {self.ty(val['type'])}" if val["type"] is not None else ""
        return f"{prefix}{name}{params}{bounds}{where}{default}"

    def impl(self, owner, impl):
        """One line per trait impl: `impl<..> Trait for Type where .. { type X = ..; }`."""
        trait, trait_id = self.path(impl["trait"]), str(impl["trait"]["id"])
        if impl["blanket_impl"] is not None \
                or impl["is_synthetic"] and trait.split("<")[0] not in AUTO_TRAITS \
                or trait_id in self.index and trait_id not in self.public:  # a hidden trait
            return
        params, where = self.generics(impl["generics"], defaults=False)
        line = f"{'unsafe ' * impl['is_unsafe']}impl{params} {'!' * impl['is_negative']}{trait}" \
               f" for {self.ty(impl['for'])}{where}"
        assoc = sorted(self.assoc_type(one(item["inner"])[1], item["name"], "type ") + ";"
                       for item in (self.index[str(i)] for i in impl["items"])
                       if "assoc_type" in item["inner"])
        self.emit(owner, 4 if impl["is_synthetic"] else 3,
                  line + (" { " + " ".join(assoc) + " }" if assoc else ""))

    # ---- signatures ----------------------------------------------------------------------
    def function(self, f, name, outer=()):
        h, sig = f["header"], f["sig"]
        quals = "const " * h["is_const"] + "async " * h["is_async"] + "unsafe " * h["is_unsafe"]
        args = join([self.input(n, t) for n, t in sig["inputs"]] + ["..." * sig["is_c_variadic"]])
        out = f" -> {self.ty(sig['output'])}" if sig["output"] is not None else ""
        params, _ = self.generics(f["generics"])
        preds = join(list(outer) + [self.predicate(p) for p in f["generics"]["where_predicates"]])
        where = " where " + preds if preds else ""
        return f"pub {quals}{self.abi(h['abi'])}fn {name}{params}({args}){out}{where}"

    def input(self, name, t):
        ref = t.get("borrowed_ref")
        if name == "self" and t == {"generic": "Self"}:
            return "self"
        if name == "self" and ref and ref["type"] == {"generic": "Self"}:
            lifetime = ref["lifetime"] + " " if ref["lifetime"] else ""
            return f"&{lifetime}{'mut ' * ref['is_mutable']}self"
        return f"{name}: {self.ty(t)}"

    @staticmethod
    def abi(abi):
        if abi == "Rust":
            return ""
        k, v = one(abi)
        return f"extern {v} " if k == "Other" else \
            f'extern "{k}{"-unwind" if v and v.get("unwind") else ""}" '

    def generics(self, gen, defaults=True):
        """(`<params>`, ` where ..`) of a declaration; `impl Trait` arguments left out."""
        if not gen:
            return "", ""
        params = join(self.param(p, defaults) for p in gen["params"]
                      if not (one(p["kind"])[1] or {}).get("is_synthetic"))
        preds = join(self.predicate(p) for p in gen["where_predicates"])
        return (f"<{params}>" if params else ""), (f" where {preds}" if preds else "")

    def param(self, p, defaults=True):
        kind, v = one(p["kind"])
        if kind == "lifetime":
            return p["name"] + (": " + join(v["outlives"], " + ") if v["outlives"] else "")
        default = v["default"] if defaults else None
        if kind == "const":
            return f"const {p['name']}: {self.ty(v['type'])}" + (f" = {default}" if default else "")
        bounds = ": " + self.bounds(v["bounds"]) if v["bounds"] else ""
        return f"{p['name']}{bounds}" + (f" = {self.ty(default)}" if default else "")

    def param_bound(self, p):
        """An impl's parameter as a where-predicate (`S: Clone`), or None without bounds."""
        kind, v = one(p["kind"])
        bounds = v.get("outlives") or v.get("bounds")
        if bounds and kind == "lifetime":
            return f"{p['name']}: {join(bounds, ' + ')}"
        return f"{p['name']}: {self.bounds(bounds)}" if bounds and kind == "type" else None

    def predicate(self, p):
        kind, v = one(p)
        if kind == "bound_predicate":
            bounds = ": " + self.bounds(v["bounds"]) if v["bounds"] else ""
            return f"{self.hrtb(v['generic_params'])}{self.ty(v['type'])}{bounds}"
        if kind == "lifetime_predicate":
            return f"{v['lifetime']}: {join(v['outlives'], ' + ')}"
        return f"{self.ty(v['lhs'])} = {self.term(v['rhs'])}"  # eq_predicate

    def hrtb(self, params):
        return f"for<{join(self.param(p) for p in params)}> " if params else ""

    def bounds(self, bounds):
        return join((self.bound(b) for b in bounds), " + ")

    def bound(self, b):
        kind, v = one(b)
        if kind == "trait_bound":
            modifier = {"none": "", "maybe": "?", "maybe_const": "[const] "}[v["modifier"]]
            return f"{self.hrtb(v['generic_params'])}{modifier}{self.path(v['trait'])}"
        if kind == "outlives":
            return v
        return "use<" + join(x if isinstance(x, str) else one(x)[1] for x in v) + ">"

    def term(self, t):
        kind, v = one(t)
        return self.ty(v) if kind == "type" else v["expr"]

    # ---- types ---------------------------------------------------------------------------
    def path(self, p):
        item_id, written = str(p["id"]), p["path"]
        if item_id in self.public:  # the crate's own item: its shortest public path
            name = shortest(self.public[item_id])
        elif item_id in self.paths:
            name = "::".join(self.paths[item_id]["path"])
            name = self.renamed.get(name, name)
        else:
            name = written.removeprefix("$crate::")
        return name + self.args(p["args"])

    def args(self, a):
        kind, v = one(a) if a else (None, None)
        if kind == "angle_bracketed":
            parts = [self.arg(x) for x in v["args"]]
            for c in v["constraints"]:
                ckind, rhs = one(c["binding"])
                rhs = " = " + self.term(rhs) if ckind == "equality" else ": " + self.bounds(rhs)
                parts.append(c["name"] + self.args(c["args"]) + rhs)
            return f"<{join(parts)}>" if parts else ""
        if kind == "parenthesized":
            out = f" -> {self.ty(v['output'])}" if v["output"] else ""
            return f"({join(self.ty(t) for t in v['inputs'])}){out}"
        return "(..)" if kind else ""  # return type notation, or no arguments

    def arg(self, x):
        kind, v = one(x)
        return {"infer": "_", "lifetime": v}.get(kind) or \
            (self.ty(v) if kind == "type" else v["expr"])  # const

    def ty(self, t):
        kind, v = one(t)
        if kind in ("generic", "primitive"):
            return "!" if t == {"primitive": "never"} else v
        if kind == "resolved_path":
            return self.path(v)
        if kind == "borrowed_ref":
            lifetime = v["lifetime"] + " " if v["lifetime"] else ""
            return f"&{lifetime}{'mut ' * v['is_mutable']}{self.ty(v['type'])}"
        if kind == "raw_pointer":
            return f"*{'mut' if v['is_mutable'] else 'const'} {self.ty(v['type'])}"
        if kind == "tuple":
            return "(" + join(self.ty(x) for x in v) + "," * (len(v) == 1) + ")"
        if kind == "slice":
            return f"[{self.ty(v)}]"
        if kind == "array":
            return f"[{self.ty(v['type'])}; {v['len']}]"
        if kind == "impl_trait":
            return "impl " + self.bounds(v)
        if kind == "dyn_trait":
            traits = [self.hrtb(p["generic_params"]) + self.path(p["trait"]) for p in v["traits"]]
            return "dyn " + join(traits + [v["lifetime"]], " + ")
        if kind == "function_pointer":
            sig, h = v["sig"], v["header"]
            out = f" -> {self.ty(sig['output'])}" if sig["output"] is not None else ""
            return f"{self.hrtb(v['generic_params'])}{'unsafe ' * h['is_unsafe']}" \
                   f"{self.abi(h['abi'])}fn({join(self.ty(x) for _, x in sig['inputs'])}){out}"
        if kind == "qualified_path":
            name = v["name"] + self.args(v["args"])
            if v["trait"] is None:
                return f"{self.ty(v['self_type'])}::{name}"
            return f"<{self.ty(v['self_type'])} as {self.path(v['trait'])}>::{name}"
        if kind == "infer":
            return "_"
        if kind == "pat":
            return f"{self.ty(v['type'])} is {v['__pat_unstable_do_not_use']}"
        raise ValueError(f"unknown type kind {kind!r}: has rustdoc's JSON format changed?")


def main():
    # DEP.json: rustdoc JSON of dependencies from this workspace (authgate, for the stores),
    # so that their items are named by public paths (`authgate::store::StoreError`) rather
    # than by the private modules that define them.
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} CRATE.json [DEP.json ...]")
    docs = []
    for name in sys.argv[1:]:
        with open(name) as f:
            docs.append(json.load(f))
        if docs[-1]["format_version"] != FORMAT_VERSION:
            print(f"warning: {name}: rustdoc JSON format_version {docs[-1]['format_version']},"
                  f" this script was written for {FORMAT_VERSION}", file=sys.stderr)
    for line in Api(docs[0], docs[1:]).render():
        print(line)


if __name__ == "__main__":
    main()
