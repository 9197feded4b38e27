#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from tests/testdata and a few
hand-made inputs. The files are kept in the repository; run this again only to change
them (python3 fuzz/make_seeds.py). The key and clock match fuzz/fuzz_jwt.c."""
import base64
import hashlib
import hmac
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "tests", "testdata")
FUZZ_KEY = b"fuzz-key-for-authkit-0123456789abcdefghi"  # fuzz_jwt.c: 40 bytes
EXP = 4102444800  # 2100-01-01, after fuzz_jwt.c's fixed clock (1764410000)
SUB = "3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f"
SID = "0a1b2c3d-4e5f-4061-8a7b-9c0d1e2f3a4b"

assert len(FUZZ_KEY) == 40


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def sign(header, payload):
    signing_input = b64url(header) + b"." + b64url(payload)
    mac = hmac.new(FUZZ_KEY, signing_input, hashlib.sha256).digest()
    return signing_input + b"." + b64url(mac)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def testdata_fields(name):
    fields = {}
    with open(os.path.join(TESTDATA, name)) as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            k, v = line.rstrip("\n").split("\t", 1)
            fields[k] = v
    return fields


def jwt_seeds():
    t = "fuzz_jwt"
    a1 = testdata_fields("jwt-hs256-rfc7515-a1.txt")
    write(t, "rfc7515-a1-token", a1["token"].encode())
    write(t, "alg-none-token", a1["alg_none_token"].encode())
    header = b'{"alg":"HS256","typ":"JWT"}'
    claims = ('{"sub":"%s","sid":"%s","iat":1764409999.25,"exp":%d}' % (SUB, SID, EXP)).encode()
    write(t, "signed-token", sign(header, claims))
    # One whose signature uses '-' and '_', the two characters base64url adds.
    for iat in range(1764409000, 1764410000):
        c = ('{"sub":"%s","iat":%d,"exp":%d}' % (SUB, iat, EXP)).encode()
        token = sign(header, c)
        if b"-" in token.split(b".")[2] and b"_" in token.split(b".")[2]:
            write(t, "signed-token-urlsafe", token)
            break
    # The signed mode: a payload alone (standard header), or header NUL payload.
    write(t, "payload-claims", claims)
    write(t, "payload-nbf", b'{"exp":%d,"nbf":1764409000,"iat":1764409000}' % EXP)
    write(t, "payload-duplicate-exp", b'{"exp":1,"exp":%d}' % EXP)
    h_a1, p_a1 = (base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
                  for s in a1["token"].split(".")[:2])
    write(t, "header-payload-rfc7515-a1", h_a1 + b"\0" + p_a1)
    write(t, "header-payload-crit", b'{"alg":"HS256","crit":["exp"]}\0{"exp":%d}' % EXP)
    write(t, "header-payload-kid", b'{"typ":"jwt","alg":"HS256","kid":"k1"}\0{"exp":%d.5}' % EXP)


# A few of each kind: $2a$/$2b$/$2y$, empty, 72-byte and longer passwords, 8-bit bytes,
# a NUL in the password, $2x$; and refused shapes (bad cost, bad prefix, short, bad salt).
VECTORS = {"B1", "B4", "B5", "B7", "B8", "B11", "B17", "L4", "L8", "P4", "P5"}
REFUSE = [0, 2, 6, 7, 8]


def password_seeds():
    t = "fuzz_password_verify"
    with open(os.path.join(TESTDATA, "bcrypt-vectors.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            vid, pw_hex, hash_ = cols[0], cols[1], cols[2]
            if vid not in VECTORS:
                continue
            write(t, "vector-" + vid, hash_.encode() + b"\0" + bytes.fromhex(pw_hex))
    with open(os.path.join(TESTDATA, "bcrypt-refuse.txt")) as f:
        refuse = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    for i in REFUSE:
        write(t, "refuse-%d" % i, refuse[i].encode() + b"\0U*U")
    # Acceptable shape at a cost that is skipped, and no password at all.
    write(t, "cost-12", b"$2b$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\0pw")
    write(t, "no-password", b"$2b$04$CCCCCCCCCCCCCCCCCCCCC.AKurti2nSiRoaXd0tyyeWA.1jj9Kto2")


def text_seeds():
    t = "fuzz_text"
    seeds = {
        "email-plain": b"alice@example.com",
        "email-trim-case": b" \tBob.Smith+Tag@Example.ORG\r\n",
        "email-utf8": "J\u00fcrgen.M\u00fcller@b\u00fccher.example".encode(),
        "email-short": b"a@b.c",
        "email-two-at": b"a@@b.c",
        "email-bad-utf8": b"\xed\xa0\x80@b.c",
        "utf8-mixed": "a\u00e9\u4e2d\U0001f600".encode() + b"\xf4\x8f\xbf\xbf",
        "uuid": SUB.encode(),
        "token": b64url(bytes(range(32))),
        "b64url": b64url(b'{"alg":"HS256","typ":"JWT"}'),
        "username": b"alice_01",
        "role": b"org:admin-2.x",
    }
    for name, data in seeds.items():
        write(t, name, data)


def body_seeds():
    # fuzz_body_form: the body alone. fuzz_body_json: a first byte that picks the
    # Content-Type (0: application/json), then the body.
    form = {
        "login": b"username=ada&password=correct+horse%21&next=%2Fhome&remember_me=on",
        "login-email": b"email=ada%40example.com&password=x&remember_me=1",
        "password-change": b"current_password=a%00b&new_password=%C3%A9t%C3%A9+%2B",
        "unknown-and-empty": b"&&x=%zz&login&password=&next=/a?b=c",
    }
    for name, data in form.items():
        write("fuzz_body_form", name, data)
    json_bodies = {
        "login": b'{"username":"ada","password":"correct horse","remember_me":true}',
        "login-email": b'{"email":"ada@example.com","password":"p\u00e9","next":"/x"}',
        "password-change": b'{"current_password":"a","new_password":"b\"\\\/"}',
        "wrong-type": b'{"login":"ada","password":7,"remember_me":"on"}',
        "nested-unknown": b'{"other":{"password":1},"username":"a\ud83d\ude00"}',
    }
    for name, data in json_bodies.items():
        write("fuzz_body_json", name, b"\0" + data)
    write("fuzz_body_json", "type-charset", b"\1" + json_bodies["login"])


def dburl_seeds():
    urls = {
        "sqlite-file": b"sqlite://./authkit.db",
        "sqlite-memory": b"sqlite::memory:",
        "sqlite-absolute": b"sqlite:///var/lib/authkit/authkit.db",
        "postgresql": b"postgresql://authkit:secret@db.example:5432/authkit?sslmode=verify-full",
        "postgres-socket": b"postgres:///authkit?host=/run/postgresql&connect_timeout=3",
        "postgresql-ipv6": b"postgresql://[::1]:5433,db2:5432/x?target_session_attrs=read-write",
        "mysql": b"mysql://localhost/x",
    }
    for name, data in urls.items():
        write("fuzz_dburl", name, data)


def dotenv_seeds():
    t = "fuzz_dotenv"
    write(t, "example", b"""# authkit settings
AUTHKIT_DATABASE_URL='sqlite://./authkit.db'   # a comment
export AUTHKIT_SESSION_SECRET="s3cret \\"quoted\\" and \\\\ more"
AUTHKIT_LISTEN = 127.0.0.1:8080
OTHER_PROGRAM=value#not-a-comment
\r
AUTHKIT_BCRYPT_COST=12\r
""")
    write(t, "errors", b"AUTHKIT_LISTEN='unterminated\n")
    write(t, "after-quote", b'K="v" trailing\n')
    write(t, "no-newline", b"\t export\tA_1=\t x y \t")
    # Lines around the length limit (8190 bytes and a newline fit; one more does not).
    write(t, "line-at-limit", b"A=" + b"v" * 8188 + b"\n" + b"B=1\n")
    write(t, "line-over-limit", b"A=" + b"v" * 8189 + b"\nB=1\n")


def token_seeds():
    t = "fuzz_token"
    write(t, "live", b"{{token}}")
    write(t, "live-jwt", b"{{jwt}}")
    write(t, "live-suffix", b"{{token}}A")
    write(t, "jwt-prefix", b"x{{jwt}}")
    write(t, "well-formed", b64url(bytes(range(32))))
    write(t, "rfc7515-a1", testdata_fields("jwt-hs256-rfc7515-a1.txt")["token"].encode())


def http_token_seeds():
    t = "fuzz_http_token"
    host = b"Host: localhost\r\n"
    reqs = {
        "cookie": b"GET / HTTP/1.1\r\n" + host + b"Cookie: a=b; __Host-session_token={{token}}; c=d\r\n\r\n",
        "cookie-sid": b"GET /x HTTP/1.1\r\n" + host + b"Cookie: sid=\"{{token}}\"\r\n\r\n",
        "bearer": b"GET /me HTTP/1.1\r\n" + host + b"Authorization: Bearer   {{token}}  \r\n\r\n",
        "bearer-and-cookie": b"GET / HTTP/1.1\r\n" + host
        + b"authorization: basic eDp5\r\nCookie: __Host-session_token={{token}}\r\n\r\n",
        "pipelined": b"GET / HTTP/1.1\r\n" + host + b"Cookie: sid=abc\r\n\r\n"
        + b"POST /login HTTP/1.1\r\n" + host + b"Content-Length: 5\r\n"
        + b"Cookie: __Host-session_token={{token}}\r\n\r\nhello",
        "http10-folded": b"GET / HTTP/1.0\r\nCookie: x=1;\r\n __Host-session_token=v\r\n\r\n",
        "chunked": b"POST / HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n"
        + b"Authorization: Bearer {{token}}\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    }
    for name, data in reqs.items():
        write(t, name, data)


if __name__ == "__main__":
    jwt_seeds()
    password_seeds()
    text_seeds()
    body_seeds()
    dburl_seeds()
    dotenv_seeds()
    token_seeds()
    http_token_seeds()
