"""Authentication: tokens, the login page, deny by default, throttled logins, users and keys.

Users are made in the test's rolled-back session; the app shares it (see conftest).
"""

from __future__ import annotations

import base64
import io
import re
import stat
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import cli
from api.app import AppSettings, create_app
from api.commands import users as users_cmd
from api.routes.auth import safe_next
from api.security import COOKIE_NAME, PUBLIC_PATHS
from geo.access import passwords
from geo.access.keys import KeyConfigError, Keys
from geo.access.tokens import issue_token, verify_token
from geo.access.users import (
    BAD_CREDENTIALS,
    authenticate,
    create_user,
    disable_user,
    lock_seconds,
    user_scope,
)
from geo.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from geo.models import ROLES, AppUser
from geo.settings import SecuritySettings

PASSWORD = "Grid-map-2020-passwort"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _user(session: Session, username: str = "liwei", role: str = "admin", **kw: Any) -> AppUser:
    user, _ = create_user(session, username, role, password=PASSWORD, **kw)
    return user


def _token(client: TestClient, username: str, password: str) -> Any:
    return client.post("/auth/token", data={"username": username, "password": password})


def _active_grids(session: Session, n: int) -> list[str]:
    return list(session.scalars(text(
        "SELECT gc.code FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id "
        "AND g.is_active ORDER BY gc.code LIMIT :n"), {"n": n}))


# --- tokens -------------------------------------------------------------------------------


def test_password_flow_gives_a_bearer_token_that_opens_the_api(
        anon_client: TestClient, session: Session, app_settings: AppSettings) -> None:
    _user(session)
    resp = _token(anon_client, "liwei", PASSWORD)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == app_settings.security.token_minutes * 60
    assert resp.headers["cache-control"] == "no-store"
    cases = anon_client.get("/cases", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert cases.status_code == 200 and "items" in cases.json()


def test_token_carries_user_role_and_expiry(session: Session, keys: Keys) -> None:
    user = _user(session, role="registrar")
    token, expires_in = issue_token(user, keys, 30)
    claims = verify_token(token, keys)
    assert claims["sub"] == "liwei" and claims["uid"] == user.id and claims["role"] == "registrar"
    assert claims["exp"] - claims["iat"] == expires_in == 1800
    assert claims["jti"] != verify_token(issue_token(user, keys, 30)[0], keys)["jti"]


def _forged(user: AppUser, keys: Keys) -> str:
    other = Keys("another-secret-that-is-long-enough-0123456789", keys.data_key)
    return issue_token(user, other, 30)[0]


def _alg_none(user: AppUser, keys: Keys) -> str:
    now = int(datetime.now(UTC).timestamp())
    return jwt.encode({"sub": user.username, "uid": user.id, "role": "admin", "iat": now,
                       "exp": now + 600, "jti": "x"}, "", algorithm="none")


def _no_uid(user: AppUser, keys: Keys) -> str:
    now = int(datetime.now(UTC).timestamp())
    return jwt.encode({"sub": user.username, "role": "admin", "iat": now, "exp": now + 600,
                       "jti": "x"}, keys.secret_key, algorithm="HS256")


BAD_TOKENS: dict[str, tuple[Callable[[AppUser, Keys], str], str]] = {
    "expired": (lambda u, k: issue_token(u, k, -1)[0], "expired"),
    "forged": (_forged, "signature"),
    "alg none": (_alg_none, "malformed"),
    "missing claim": (_no_uid, "malformed"),
    "malformed": (lambda u, k: "not-a-token", "malformed"),
    "three dots": (lambda u, k: "a.b.c", "malformed"),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_tokens_are_401_with_www_authenticate(anon_client: TestClient, session: Session,
                                                  keys: Keys, kind: str) -> None:
    make, word = BAD_TOKENS[kind]
    token = make(_user(session), keys)
    resp = anon_client.get("/cases", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert word in resp.json()["detail"]
    # the same token in the cookie fares no better
    anon_client.cookies.set(COOKIE_NAME, token)
    assert anon_client.get("/cases").status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic bGl3ZWk6eA=="},
                                     {"Authorization": "Bearer"}])
def test_missing_token_is_401_with_www_authenticate(anon_client: TestClient,
                                                    headers: dict[str, str]) -> None:
    resp = anon_client.get("/cases", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert "not authenticated" in resp.json()["detail"]


def test_verify_token_raises_the_domain_error(session: Session, keys: Keys) -> None:
    with pytest.raises(NotAuthenticated, match="expired"):
        verify_token(issue_token(_user(session), keys, -1)[0], keys)


# --- deny by default ------------------------------------------------------------------------


# Routes outside the OpenAPI document; every other route is listed there.
HIDDEN_ROUTES = {("GET", "/docs"), ("GET", "/redoc"), ("GET", "/docs/oauth2-redirect"),
                 ("GET", "/openapi.json")}


def test_every_route_outside_the_allow_list_refuses_anonymous_calls(
        app: FastAPI, anon_client: TestClient) -> None:
    documented = {(method.upper(), path) for path, ops in app.openapi()["paths"].items()
                  for method in ops}
    assert {("GET", "/cases"), ("GET", "/map"), ("POST", "/auth/token")} <= documented
    checked = []
    for method, path in sorted(documented | HIDDEN_ROUTES):
        if path in PUBLIC_PATHS:
            continue
        resp = anon_client.request(method, re.sub(r"\{[^}]+\}", "1", path))
        assert resp.status_code == 401, (method, path, resp.status_code)
        assert resp.headers["www-authenticate"] == "Bearer"
        checked.append(path)
    assert len(checked) >= 8


@pytest.mark.parametrize("path", ["/health", "/login", "/static/gridmap/login.css",
                                  "/static/gridmap/gridmap.css",
                                  "/static/vendor/leaflet/leaflet.js",
                                  "/static/docs/swagger-ui-bundle.js"])
def test_allow_listed_paths_and_static_assets_need_no_token(anon_client: TestClient,
                                                            path: str) -> None:
    resp = anon_client.get(path)
    assert resp.status_code == 200, path
    assert resp.content


def test_the_allow_list_is_exactly_this() -> None:
    assert sorted(PUBLIC_PATHS) == ["/auth/token", "/health", "/login", "/logout"]


@pytest.mark.parametrize(("path", "next_path"), [("/map", "/map"), ("/docs", "/docs"),
                                                 ("/cases?limit=5", "/cases%3Flimit%3D5")])
def test_a_browser_without_cookie_is_sent_to_the_login_page(anon_client: TestClient, path: str,
                                                            next_path: str) -> None:
    resp = anon_client.get(path, headers=BROWSER, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/login?next={next_path}"


def test_a_script_asking_for_the_map_gets_401_not_a_redirect(anon_client: TestClient) -> None:
    resp = anon_client.get("/map", headers={"Accept": "application/json"},
                           follow_redirects=False)
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"


# --- login page and cookie -------------------------------------------------------------------


def test_login_page_is_chinese_local_and_carries_next(anon_client: TestClient) -> None:
    resp = anon_client.get("/login", params={"next": "/map"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "登录" in html and 'action="/login"' in html
    assert 'name="next" value="/map"' in html
    assert 'name="viewport"' in html
    assert not re.search(r"https?://", html)
    for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html):
        assert anon_client.get(url).status_code == 200, url


def test_login_page_escapes_next(anon_client: TestClient) -> None:
    html = anon_client.get("/login", params={"next": '/map"><script>alert(1)</script>'}).text
    assert "<script>" not in html


def test_login_form_sets_a_strict_httponly_cookie_that_opens_the_map(
        anon_client: TestClient, session: Session, zhongshan: None) -> None:
    _user(session, role="commander")
    assert anon_client.get("/map", headers=BROWSER, follow_redirects=False).status_code == 303
    resp = anon_client.post("/login", data={"username": "liwei", "password": PASSWORD,
                                            "next": "/map"}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/map"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure
    page = anon_client.get("/map", headers=BROWSER, follow_redirects=False)
    assert page.status_code == 200 and "leaflet" in page.text.lower()


def test_login_cookie_is_secure_over_https(app: FastAPI, session: Session) -> None:
    _user(session)
    with TestClient(app, base_url="https://testserver") as c:
        resp = c.post("/login", data={"username": "liwei", "password": PASSWORD},
                      follow_redirects=False)
    assert resp.status_code == 303 and "Secure" in resp.headers["set-cookie"]


def test_wrong_password_shows_the_page_again_with_an_error(anon_client: TestClient,
                                                          session: Session) -> None:
    _user(session)
    resp = anon_client.post("/login", data={"username": "liwei", "password": "wrong-password",
                                            "next": "/cases"}, follow_redirects=False)
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.text and 'value="/cases"' in resp.text
    assert "set-cookie" not in resp.headers


@pytest.mark.parametrize(("value", "expected"), [
    ("/map", "/map"), ("/cases?limit=5", "/cases?limit=5"), ("", "/map"),
    ("https://evil.example/", "/map"), ("//evil.example/x", "/map"), ("/\\evil.example", "/map"),
    ("/\t/evil.example", "/map"), ("javascript:alert(1)", "/map"), ("map", "/map"),
    ("/login", "/map"), ("/logout", "/map"),
])
def test_next_stays_on_this_site(value: str, expected: str) -> None:
    assert safe_next(value) == expected


def test_login_form_never_redirects_off_site(anon_client: TestClient, session: Session) -> None:
    _user(session)
    resp = anon_client.post("/login", data={"username": "liwei", "password": PASSWORD,
                                            "next": "https://evil.example/"},
                            follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/map"


def test_logout_clears_the_cookie(anon_client: TestClient, session: Session) -> None:
    _user(session)
    anon_client.post("/login", data={"username": "liwei", "password": PASSWORD},
                     follow_redirects=False)
    assert anon_client.get("/cases").status_code == 200
    resp = anon_client.post("/logout", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login"
    assert f'{COOKIE_NAME}=""' in resp.headers["set-cookie"]
    assert "Max-Age=0" in resp.headers["set-cookie"]
    assert anon_client.get("/cases").status_code == 401


# --- throttling, unknown and disabled users --------------------------------------------------


def test_lockout_after_max_failures_is_429_even_for_the_right_password(
        anon_client: TestClient, session: Session, app_settings: AppSettings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    user = _user(session)
    allowed = app_settings.security.max_failed_logins
    statuses = [_token(anon_client, "liwei", f"wrong-{i}").status_code for i in range(allowed)]
    assert statuses == [401] * (allowed - 1) + [429]

    checked: list[str] = []

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password)
        return True

    monkeypatch.setattr(passwords, "verify_password", spy)
    resp = _token(anon_client, "liwei", PASSWORD)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["retry-after"]) <= 30
    assert resp.json()["detail"] == f"too many failed logins: try again in " \
                                    f"{resp.headers['retry-after']} s"
    assert checked == []  # locked: the password is not even looked at
    monkeypatch.undo()

    # the lock over, the right password works and resets the count
    session.refresh(user)
    user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    assert _token(anon_client, "liwei", PASSWORD).status_code == 200
    session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_the_login_page_shows_the_lockout(anon_client: TestClient, session: Session,
                                          app_settings: AppSettings) -> None:
    _user(session)
    for i in range(app_settings.security.max_failed_logins):
        resp = anon_client.post("/login", data={"username": "liwei", "password": f"bad-{i}"})
    assert resp.status_code == 429 and "秒后再试" in resp.text
    assert int(resp.headers["retry-after"]) >= 1


def test_lock_time_grows_exponentially_and_is_capped() -> None:
    assert [lock_seconds(n, 5) for n in (0, 4, 5, 6, 7, 9)] == [0, 0, 30, 60, 120, 480]
    assert lock_seconds(10, 5) == lock_seconds(10_000, 5) == 15 * 60


def test_a_failure_after_the_lock_locks_for_longer(session: Session) -> None:
    settings = SecuritySettings(max_failed_logins=2)
    _user(session)
    t0 = datetime.now(UTC)
    with pytest.raises(NotAuthenticated):
        authenticate(session, "liwei", "nope-1", settings, now=t0)
    with pytest.raises(TooManyAttempts) as first:
        authenticate(session, "liwei", "nope-2", settings, now=t0)
    with pytest.raises(TooManyAttempts) as second:
        authenticate(session, "liwei", "nope-3", settings, now=t0 + timedelta(seconds=31))
    assert (first.value.retry_after, second.value.retry_after) == (30, 60)


def test_unknown_user_and_wrong_password_look_the_same(
        anon_client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _user(session)
    burned: list[str] = []
    real_burn = passwords.burn_verification

    def spy(password: str) -> None:
        burned.append(password)
        real_burn(password)

    monkeypatch.setattr(passwords, "burn_verification", spy)
    unknown = _token(anon_client, "nobody", PASSWORD)
    wrong = _token(anon_client, "liwei", "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": BAD_CREDENTIALS}
    assert burned == [PASSWORD]  # the unknown user cost a verification too


def test_a_disabled_user_cannot_log_in_and_their_token_stops_working(
        anon_client: TestClient, session: Session, keys: Keys) -> None:
    user = _user(session)
    headers = {"Authorization": f"Bearer {issue_token(user, keys, 30)[0]}"}
    assert anon_client.get("/cases", headers=headers).status_code == 200
    disable_user(session, "liwei")
    resp = anon_client.get("/cases", headers=headers)
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
    login = _token(anon_client, "liwei", PASSWORD)
    assert login.status_code == 401 and login.json() == {"detail": BAD_CREDENTIALS}


def test_token_of_a_deleted_user_whose_id_was_reused_is_refused(
        anon_client: TestClient, session: Session, keys: Keys) -> None:
    user = _user(session)
    token = issue_token(user, keys, 30)[0]
    user.username = "someone_else"
    session.flush()
    assert anon_client.get("/cases", headers={"Authorization": f"Bearer {token}"}
                           ).status_code == 401


# --- users ------------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(session: Session) -> None:
    user = _user(session)
    raw = session.execute(text("SELECT * FROM app_user WHERE id = :id"),
                          {"id": user.id}).mappings().one()
    assert raw["password_hash"].startswith("$argon2id$")
    assert all(PASSWORD not in str(v) for v in raw.values())
    assert passwords.verify_password(raw["password_hash"], PASSWORD)
    assert not passwords.verify_password(raw["password_hash"], PASSWORD + "x")
    # production cost (the tests run with argon2's cheapest profile)
    assert passwords.PARAMETERS.memory_cost >= 64 * 1024 and passwords.PARAMETERS.time_cost >= 3


def test_generated_passwords_are_strong_and_returned_once(session: Session) -> None:
    user, password = create_user(session, "zhaoli", "commander")
    assert len(password) >= 16 and password not in user.password_hash
    passwords.check_password_policy(password, "zhaoli")
    assert create_user(session, "zhaoli2", "commander")[1] != password


def test_scope_of_a_user_follows_the_role(session: Session, zhongshan: None) -> None:
    grids = _active_grids(session, 2)
    user = _user(session, role="grid_worker", grid_codes=grids + grids[:1])
    assert user.grid_codes == grids  # duplicates dropped
    scope = user_scope(user)
    assert scope.role == "grid_worker" and scope.grid_codes == tuple(grids)
    assert not scope.district_wide
    assert user_scope(_user(session, "boss", role="commander")).district_wide


def _add_args(**kw: Any) -> list[str]:
    args = ["users", "add"]
    for key, value in kw.items():
        for v in value if isinstance(value, list) else [value]:
            args += [f"--{key.replace('_', '-')}", v]
    return args


ADD_ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"username": "a b", "role": "admin"}, "--username"),
    ({"username": "wang", "role": "boss"}, "--role"),
    ({"username": "wang", "role": "grid_worker"}, "--grid"),
    ({"username": "wang", "role": "grid_leader", "grid": "123"}, "--grid"),
    ({"username": "wang", "role": "grid_worker", "grid": "210202999999001"}, "--grid"),
    ({"username": "wang", "role": "community"}, "--community"),
    ({"username": "wang", "role": "community", "community": "210202999999"}, "--community"),
    ({"username": "wang", "role": "street", "street": "210202008007"}, "--street"),
    ({"username": "wang", "role": "unit_handler"}, "--unit"),
    ({"username": "wang", "role": "unit_handler", "unit": "999999"}, "--unit"),
    ({"username": "wang", "role": "registrar", "community": "210202008007"}, "--community"),
    ({"username": "wang", "role": "admin", "grid": "210202008007001"}, "--grid"),
    ({"username": "wang", "role": "admin", "password": "short"}, "--password"),
    ({"username": "wang", "role": "admin", "password": "aaaaaaaaaaaaaa"}, "--password"),
    ({"username": "wang", "role": "admin", "password": "my-wang-password"}, "--password"),
    ({"username": "taken", "role": "admin"}, "--username"),
]


@pytest.mark.parametrize(("kw", "flag"), ADD_ERRORS)
def test_users_add_errors_name_the_flag(session: Session, zhongshan: None, kw: dict[str, Any],
                                        flag: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _user(session, "taken")
    monkeypatch.setattr(users_cmd, "_open_session", lambda: nullcontext(session))
    assert cli.main(_add_args(**kw)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gridmap: error: {flag}: "), err
    assert "Traceback" not in err
    assert session.scalar(text("SELECT count(*) FROM app_user WHERE username = 'wang'")) == 0


def test_create_user_errors_carry_the_field(session: Session, zhongshan: None) -> None:
    with pytest.raises(InvalidInput) as exc:
        create_user(session, "wang", "street", street_code="210202999000")
    assert exc.value.field == "street" and "no active 街道" in exc.value.message


def test_users_add_list_disable(session: Session, zhongshan: None,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(users_cmd, "_open_session", lambda: nullcontext(session))
    grids = _active_grids(session, 2)
    args = _add_args(username="wangli", role="grid_worker", grid=grids, name="王丽")
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    password = re.search(r"^password: (\S+)$", out, re.MULTILINE)
    assert password, out
    user = session.scalar(text("SELECT grid_codes FROM app_user WHERE username = 'wangli'"))
    assert user == grids
    assert authenticate(session, "wangli", password.group(1), SecuritySettings())

    assert cli.main(_add_args(username="chen", role="commander", password=PASSWORD)) == 0
    assert "password:" not in capsys.readouterr().out  # a given password is not echoed

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["users", "add", "--username", "zhou", "--role", "registrar",
                     "--password-stdin"]) == 0
    assert authenticate(session, "zhou", PASSWORD, SecuritySettings())

    assert cli.main(["users", "disable", "wangli"]) == 0
    assert cli.main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^wangli\s+grid_worker\s+disabled\s+" + ",".join(grids) + r"\s+王丽$",
                     listing, re.MULTILINE), listing
    assert re.search(r"^chen\s+commander\s+active\s+district", listing, re.MULTILINE)

    assert cli.main(["users", "disable", "nobody"]) == 2
    assert "USERNAME: no user 'nobody'" in capsys.readouterr().err


def test_users_add_takes_one_password_source() -> None:
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["users", "add", "--username", "x", "--role", "admin",
                                       "--password", PASSWORD, "--password-stdin"])
    assert exc.value.code == 2


# --- keys and demo mode ---------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", "changeme", "short-but-random-9f8e"])
def test_the_app_refuses_to_start_without_a_strong_secret(tmp_path: Path, database_url: str,
                                                          secret: str) -> None:
    security = SecuritySettings(secret_key=secret, data_key=base64.b64encode(b"k" * 32).decode(),
                                demo=False, state_dir=tmp_path)
    with pytest.raises(KeyConfigError, match="GRIDMAP_SECRET_KEY"):
        create_app(AppSettings(database_url=database_url, security=security))


def test_the_app_refuses_to_start_without_a_data_key(tmp_path: Path, database_url: str) -> None:
    security = SecuritySettings(secret_key="s" * 40, data_key="", demo=False, state_dir=tmp_path)
    with pytest.raises(KeyConfigError, match="GRIDMAP_DATA_KEY"):
        create_app(AppSettings(database_url=database_url, security=security))
    assert not any(tmp_path.iterdir())  # nothing generated outside demo mode


def test_demo_mode_generates_private_keys_once(tmp_path: Path, database_url: str) -> None:
    state = tmp_path / "state"
    security = SecuritySettings(secret_key="", data_key="", demo=True, state_dir=state)
    app = create_app(AppSettings(database_url=database_url, security=security))
    for name in ("secret.key", "data.key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    again = create_app(AppSettings(database_url=database_url, security=security))
    assert app.state.keys == again.state.keys


def test_serve_refuses_without_keys_with_a_message_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GRIDMAP_SECRET_KEY")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "GRIDMAP_SECRET_KEY" in err and "gridmap run" in err and "Traceback" not in err


def test_run_serves_in_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDMAP_DEMO", "0")  # restored after the test
    seen: list[bool] = []

    def serve(args: object) -> int:
        seen.append(SecuritySettings().demo)
        return 0

    monkeypatch.setattr(cli, "_database_url", lambda **kw: "postgresql://unused")
    monkeypatch.setattr("geo.migrate.upgrade", lambda url: None)
    monkeypatch.setattr(cli, "_load_demo", lambda url: True)
    monkeypatch.setattr(cli, "cmd_serve", serve)
    assert cli.main(["run"]) == 0
    assert seen == [True]


# --- demo users -------------------------------------------------------------------------------


def test_demo_users_one_per_role_scoped_to_demo_data_and_created_once(
        session: Session, zhongshan: None) -> None:
    from geo.cases.reference import load_reference_data
    from geo.demo.people import assign_demo_people
    from geo.demo.users import create_demo_users

    load_reference_data(session)
    assign_demo_people(session)
    created = create_demo_users(session, today=date(2021, 1, 1))
    assert sorted(role for _, role, _ in created) == sorted(ROLES)
    by_role = {role: name for name, role, _ in created}
    assert by_role["grid_worker"].startswith("wangge_") and by_role["admin"] == "admin"
    for name, role, password in created:
        user = authenticate(session, name, password, SecuritySettings())
        assert user.role == role and user.display_name and "演示" in user.display_name
        scope = user_scope(user)
        if role in ("grid_worker", "grid_leader"):
            assert scope.grid_codes and all(len(c) == 15 for c in scope.grid_codes)
            on_duty = session.scalar(text(
                "SELECT count(*) FROM grid_assignment WHERE staff_id = :s AND role = :r "
                "AND grid_code = ANY(:g)"), {"s": user.staff_id, "r": role,
                                             "g": list(scope.grid_codes)})
            assert on_duty == len(scope.grid_codes)
    leader = session.scalar(text("SELECT grid_codes FROM app_user WHERE role = 'grid_leader'"))
    assert len(leader) > 1  # a 网格长 leads every grid of the 社区
    assert create_demo_users(session, today=date(2021, 1, 1)) == []
