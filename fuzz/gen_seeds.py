#!/usr/bin/env python3
"""Writes the committed seed corpora of fuzz/corpus-seeds/ (run from anywhere; idempotent).

The fixture constants mirror runtime/src/fuzzing.rs (authgate::__fuzz)."""
import base64, hashlib, hmac, json, os, shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-seeds")
SECRET = b"authgate fuzzing secret: 32 bytes or more"
ISSUER, AUDIENCE, NOW, COOKIE = "https://issuer.fuzz", "fuzz-api", 1_700_000_000, "__Host-session"
HEADER = '{"alg":"HS256","typ":"JWT"}'


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(header: bytes, payload: bytes) -> str:
    msg = f"{b64(header)}.{b64(payload)}"
    sig = hmac.new(SECRET, msg.encode(), hashlib.sha256).digest()
    return f"{msg}.{b64(sig)}"


def claims(**over):
    c = {"sub": "user-42", "iss": ISSUER, "aud": AUDIENCE, "iat": NOW - 60, "exp": NOW + 600,
         "roles": ["admin"], "scope": "invoices:read invoices:write"}
    c.update(over)
    return json.dumps({k: v for k, v in c.items() if v is not None}, separators=(",", ":"))


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


for t in ("bearer_header", "cookie_header", "verify_token", "next_validator", "macro_args"):
    shutil.rmtree(os.path.join(ROOT, t), ignore_errors=True)

valid = sign(HEADER.encode(), claims().encode())

# bearer_header: bound byte (0xff = 8192, else 2*b), then header values split by \n.
for i, v in enumerate([
    "Bearer " + valid, "bearer abc.def.ghi", "BEARER    a+b/c~d==  ", "Bearer\tabc", "Bearer ",
    "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer ==", " Bearer abc", "Bearer abc\nBearer abc",
    "Bearer caf\xc3\xa9", "Bearer " + "a" * 300, "Bearer a,b", "Token x", "Bearerabc",
]):
    write("bearer_header", f"seed{i:02}", b"\xff" + v.encode("latin-1" if "\xc3" in v else "utf-8"))
write("bearer_header", "bound10", b"\x05Bearer aaaaaaaaaaa")

# cookie_header: Cookie header values split by \n.
sid = b64(bytes(range(32)))
for i, v in enumerate([
    f"{COOKIE}={sid}", f"a=1; {COOKIE}=\"{sid}\"; b=2", f"{COOKIE}={sid}; {COOKIE}=other",
    f"{COOKIE}={sid}\n{COOKIE}={sid}", f" {COOKIE} = x", f"session={sid}", f"{COOKIE}=",
    f"{COOKIE}=a=b;;;", f"__host-session={sid}", f"{COOKIE}=\"\"\"", "", f"{COOKIE}={valid}",
]):
    write("cookie_header", f"seed{i:02}", v)

# verify_token: mode byte then data (see fuzz_targets/verify_token.rs).
write("verify_token", "raw_valid", b"\x00" + valid.encode())
write("verify_token", "raw_empty", b"\x00")
write("verify_token", "raw_parts", b"\x00a.b.c")
write("verify_token", "raw_jwe", b"\x00a.b.c.d.e")
msg = valid.rsplit(".", 1)[0]
write("verify_token", "raw_nosig", b"\x00" + (msg + ".").encode())
write("verify_token", "edit_none", b"\x01")
write("verify_token", "edit_flip_sig", b"\x01\x00\xfe\x41")
write("verify_token", "edit_flip_header", b"\x01\x00\x02\x41")
write("verify_token", "edit_truncate", b"\x01\x03\xf0\x00")
write("verify_token", "edit_insert", b"\x01\x01\x80\x2e")
for name, h, p in [
    ("signed_valid", HEADER, claims()),
    ("signed_none", '{"alg":"none"}', claims()),
    ("signed_None", '{"alg":"None","typ":"JWT"}', claims()),
    ("signed_crit", '{"alg":"HS256","crit":["b64"]}', claims()),
    ("signed_crit_null", '{"alg":"HS256","crit":null}', claims()),
    ("signed_kid", '{"alg":"HS256","kid":"../../etc/passwd"}', claims()),
    ("signed_jku", '{"alg":"HS256","jku":"https://evil.example/jwks"}', claims()),
    ("signed_dup_alg", '{"alg":"none","alg":"HS256"}', claims()),
    ("signed_rs256", '{"alg":"RS256"}', claims()),
    ("signed_header_array", '["HS256"]', claims()),
    ("signed_expired", HEADER, claims(exp=NOW - 3600, iat=None)),
    ("signed_future_nbf", HEADER, claims(nbf=NOW + 3600)),
    ("signed_far_exp", HEADER, claims(exp=NOW + 10 ** 9)),
    ("signed_exp_string", HEADER, claims(exp=str(NOW + 600))),
    ("signed_exp_float", HEADER, claims(exp=NOW + 600.5)),
    ("signed_exp_huge", HEADER, claims(exp=1e308)),
    ("signed_no_exp", HEADER, claims(exp=None)),
    ("signed_wrong_iss", HEADER, claims(iss="https://evil.example")),
    ("signed_aud_array", HEADER, claims(aud=["x", AUDIENCE])),
    ("signed_aud_wrong", HEADER, claims(aud=["x"])),
    ("signed_sub_num", HEADER, claims(sub=7)),
    ("signed_sub_empty", HEADER, claims(sub="")),
    ("signed_roles_num", HEADER, claims(roles=[1])),
    ("signed_dup_sub", HEADER, claims().replace('"sub":"user-42"', '"sub":"a","sub":"b"')),
    ("signed_scp", HEADER, claims(scope=None, scp=["a", "b"])),
]:
    write("verify_token", name, b"\x02" + h.encode() + b"\xff" + p.encode())
write("verify_token", "payload_valid", b"\x03" + claims().encode())
write("verify_token", "payload_nested", b"\x03" + claims(roles={"a": {"b": [1]}}).encode())
write("verify_token", "header_valid", b"\x04" + HEADER.encode())
write("verify_token", "header_bad_utf8", b"\x04{\"alg\":\"HS256\",\"x\":\"\xc3\x28\"}")
write("verify_token", "header_huge_number_member",
      b'"{"alg":"HS256","tyexp":10E0588888888,"pe":" arite"}')


def at(offset):  # mode 5 time: NOW - 3000 + 2 * u16
    v = (offset + 3000) // 2
    return bytes([v & 255, v >> 8])


write("verify_token", "cache_hits", b"\x05" + b"".join(
    bytes([0, 0]) + at(o) for o in (0, 0, 0, 0, 700, -100)))
write("verify_token", "cache_families", b"\x05" + b"".join(bytes([f, p]) + at(o) for f, p, o in [
    (1, 10, 0), (1, 10, 5000), (2, 60, 0), (2, 60, 200), (2, 60, 0), (3, 200, 0), (4, 1, 0),
    (4, 2, 0), (5, 0, 0), (6, 3, 29), (6, 3, 59), (6, 3, 60), (7, 20, 100), (7, 20, 900)]))

# next_validator: the string.
for i, v in enumerate([
    "/", "/dashboard", "/invoices?page=2&sort=asc", "/a/b#frag", "/caf%C3%A9", "//evil.example",
    "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/%2F%2Fevil.example",
    "/%2fevil.example", "/%5Cevil.example", "/%255Cevil.example", "/%252F%252Fevil.example",
    "/%25252F%25252Fevil", "/a\r\nSet-Cookie: x=y", "/a%0d%0aSet-Cookie:%20x=y", "/%", "/%zz",
    "/%ff", "/%+F", "/\t/evil", "/%E2%80%AE", "/\u3000x", "/" + "a" * 2047,
]):
    write("next_validator", f"seed{i:02}", v)
for i, v in enumerate([
    "/..//evil.example", "/./", "/a/../b", "/%2e%2e//evil.example", "/%2E%2E/%2Fevil.example",
    "/.%2e/%2F/evil", "/a/b/../../..//evil",
]):
    write("next_validator", f"dots{i:02}", v)

# macro_args: lines of <kind letter><arguments>.
for i, v in enumerate([
    'r"admin"', 'rany("a", "b"), redirect = "/login"', 'sall("invoices:read", "x:w",)',
    'preason = "health check"', 'a', 'aredirect = "//evil"', 'ouser_id', 'oinvoice.user_id, or_role = "admin", status = 403',
    'oinvoice.0.id, or_role = any("a", "b")', 'r"admin"\ns"x:y"\na', 'preason = "x"\na',
    'r""', 'r" admin"', 's"a b"', 'rany()', 'rsome("a")', 'preason = 1', 'r__authgate_stacked',
    'ostatus = 500', 'o(a)', 'r"a", "b"', 'preason = "a", reason = "b"', 'a"admin"',
    "r'a'", 'rr#"raw"#', 'aredirect = "/\\x"', 'oa.b, status = 404, status = 403',
]):
    write("macro_args", f"seed{i:02}", v)
print("seeds written to", ROOT)
