"""What a developer's client relies on: CORS on every answer a browser's fetch reads (redirects,
preflights of any header), an error's status in the HTTP status, filters that mean what they say,
and the data package's folder serving the package's files only."""

from __future__ import annotations

import shutil
import sqlite3
from urllib.parse import urlencode

import pytest

from opendata.site.app import make_app
from opendata.site.query_args import filters_as_said
from test_site import DB, METADATA

ORIGIN = {"Origin": "https://example.org"}


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


# -------------------------------------------------------------------------------------------- CORS

@pytest.mark.parametrize("path, location", [
    ("/opendata/classification/2060101%402020.json", "/opendata/classification/2060101~402020.json"),
    ("/-/config.json", "/-/settings.json"),
    ("/opendata/amounts/", "/opendata/amounts"),
])
async def test_a_redirect_carries_cors_as_the_page_it_leads_to(ds, path, location):
    # encodeURIComponent gives %40: the redirect had no CORS header, and the browser's fetch failed.
    for _ in range(2):  # the same headers each time (a shared dict once kept the last Location)
        r = await ds.client.get(path, headers=ORIGIN)
        assert r.status_code in (301, 302) and r.headers.get_list("location") == [location]
        assert r.headers["access-control-allow-origin"] == "*"


async def test_a_preflight_allows_the_headers_a_fetch_asks_for(ds):
    # Only Authorization was allowed: a fetch with Content-Type or X-Requested-With failed.
    r = await ds.client.request("OPTIONS", f"/{DB}/amounts.json", headers={
        **ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "content-type, x-requested-with, bad header\r\nx: y"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-headers"] == "Authorization, content-type, x-requested-with"


# ------------------------------------------------------------------------------------ error status

@pytest.mark.parametrize("path", ["/opendata.json?sql=select+1&_shape=bogus",
                                  "/opendata/by_class.json?report_id=x&_shape=bogus",
                                  "/opendata/amounts.json?_shape=bogus"])
async def test_an_errors_status_is_the_http_status(ds, path):
    # A query's unknown _shape answered 200 with {"ok": false, ..., "status": 400}.
    r = await ds.client.get(path, headers=ORIGIN)
    assert r.status_code == 400 and r.json()["error"] == "Invalid _shape: bogus"
    assert r.headers["access-control-allow-origin"] == "*"


# ----------------------------------------------------------------------------------------- filters

@pytest.mark.parametrize("params, sql", [
    ({"code__contains": "_"}, "instr(code, '_') > 0"),  # LIKE's wildcard: every code matched
    ({"code__startswith": "2_1"}, "code like '2\\_1%' escape '\\'"),
    ({"item__endswith": "%"}, "item like '%\\%' escape '\\'"),
    ({"item__contains": "（"}, "instr(item, '（') > 0"),  # no wildcard: as before
    ({"amount__isnull": "0"}, "amount is not null"),  # read as is null
    ({"amount__isnull": "1"}, "amount is null"),
    ({"amount__notnull": "false"}, "amount is null"),
])
async def test_a_filter_selects_what_it_says(ds, site_db, params, sql):
    with sqlite3.connect(site_db) as conn:
        expected = conn.execute(f"select count(*) from amounts where {sql}").fetchone()[0]
    r = await ds.client.get(f"/{DB}/amounts.json?_size=0&" + urlencode(params))
    assert r.status_code == 200 and r.json()["filtered_table_rows_count"] == expected


def test_a_text_filter_with_glob_wildcards_keeps_them_literal():
    said = filters_as_said(urlencode({"item__contains": "a_[*?]"}).encode())
    assert said == urlencode({"item__glob": "*a_[[][*][?]]*"}).encode()
    assert filters_as_said(b"item__contains=abc&_sort=x") == b"item__contains=abc&_sort=x"


# ---------------------------------------------------------------------------------- package folder

async def test_the_package_folder_serves_the_packages_files_only(site_package, site_db, tmp_path):
    # Whatever sat in the folder was served: a .env, .git/config, a generator's notes.
    package = tmp_path / "package"
    shutil.copytree(site_package, package)
    (package / ".env").write_text("SECRET=1")
    (package / ".git").mkdir()
    (package / ".git" / "config").write_text("[core]")
    (package / "data" / "notes.txt").write_text("notes")
    ds = make_app(site_db, metadata=METADATA, package_dir=package)
    for path in ("/datapackage/.env", "/datapackage/.git/config", "/datapackage/data/notes.txt"):
        r = await ds.client.get(path)
        assert r.status_code == 404 and "数据包中没有这个文件" in r.text and "SECRET" not in r.text
    for path in ("/datapackage/datapackage.json", "/datapackage/data/amounts.csv"):
        assert (await ds.client.get(path)).status_code == 200
    # A name percent-encoded as a client library may write it was a 404 (Datasette looked the raw
    # path up) or a redirect to a tilde-encoded name that was not there; a way out is still none.
    whole = (package / "data" / "amounts.csv").read_bytes()
    for path in ("/datapackage/data/amounts%2Ecsv", "/datapackage/data%2Famounts.csv", "/datapackage/data/%61mounts.csv"):
        r = await ds.client.get(path)
        assert (r.status_code, r.content) == (200, whole), path
    assert (await ds.client.get("/datapackage/datapackage%2Ejson")).json()["name"] == "china-department-final-accounts"
    for path in ("/datapackage/data/%2E%2E/%2E%2E/metadata.yml", "/datapackage/%2Eenv", "/datapackage/data%2F..%2F.env"):
        r = await ds.client.get(path)
        assert r.status_code == 404 and "SECRET" not in r.text, path


# ------------------------------------------------------------------------------------------ facets

async def test_a_facet_past_its_time_limit_is_named_in_the_json(ds, monkeypatch):
    # It was left out of facet_results without a word: a facet with no values, to a client.
    from datasette.database import QueryInterrupted

    from opendata.site.facets import CachedColumnFacet

    counted = CachedColumnFacet._facet_rows

    async def slow_item(self, column, facet_size, stored):
        if column == "item":
            raise QueryInterrupted(None, "select ...", {})
        return await counted(self, column, facet_size, stored)

    assert (await ds.client.get(f"/{DB}/amounts.json?_size=0&_facet=item")).json()["facets_timed_out"] == []
    monkeypatch.setattr(CachedColumnFacet, "_facet_rows", slow_item)
    data = (await ds.client.get(f"/{DB}/amounts.json?_size=0&_facet=item&table_no=5")).json()
    assert data["facets_timed_out"] == ["item"] and "item" not in data["facet_results"]
    assert {"report_id", "measure"} <= set(data["facet_results"])
    page = (await ds.client.get(f"/{DB}/amounts?_facet=item&table_no=5")).text
    assert "以下分面统计超时" in page


@pytest.mark.parametrize("where", ["1) or (1=1", "1=1) or (report_id <> ''", "amount > (1", "item = 'x"])
async def test_a_where_whose_brackets_do_not_pair_is_refused(ds, where):
    # Bracketed by the site, "1) or (1=1" closed the bracket: every report's rows under one report's filter.
    r = await ds.client.get(f"/{DB}/amounts.json?" + urlencode({"report_id": "zhuzhou-lusong-kjgxj-2020-final",
                                                                 "_where": where}), headers=ORIGIN)
    assert r.status_code == 400 and "brackets ( ) do not pair up" in r.json()["error"]
    assert r.headers["access-control-allow-origin"] == "*"
    for fine in ("(amount > 1) or (amount < 0)", "item = ')'", "[line_no] > 1"):
        ok = await ds.client.get(f"/{DB}/amounts.json?" + urlencode({"report_id": "zhuzhou-lusong-kjgxj-2020-final",
                                                                      "_where": fine, "_size": 0}))
        assert ok.status_code == 200, (fine, ok.text)


async def test_facets_counted_one_by_one_past_their_time_limit_are_named(ds, monkeypatch):
    # When the page's one facet query fails, ColumnFacet counts them one by one: those cut off were
    # said on the HTML page only.
    from datasette.facets import ColumnFacet

    from opendata.site.facets import CachedColumnFacet

    async def no_live_rows(self, names):
        return None

    async def cut_off(self):
        return [], ["report_id", "side"]

    monkeypatch.setattr(CachedColumnFacet, "_live_rows", no_live_rows)
    monkeypatch.setattr(ColumnFacet, "facet_results", cut_off)
    # Two filters: no stored counts, the facets counted live.
    data = (await ds.client.get(f"/{DB}/amounts.json?_size=0&_facet=side&table_no=5&measure=合计")).json()
    assert data["facets_timed_out"] == ["report_id", "side"]


@pytest.mark.parametrize("query", [
    "_where=x%20%3D%201%20%2F*%20(%20*%2F%20)%20or%20(%20%2F*%20)%20*%2F%201%3D1",  # a bracket in a comment
    "%5Fwhere=1)%20or%20(1%3D1",  # _where percent-encoded: Datasette reads it, the check did not
    "_where=1%3D1%20--%20)",
])
async def test_a_where_cannot_hide_a_bracket(ds, query):
    r = await ds.client.get(f"/{DB}/amounts.json?report_id=zhuzhou-lusong-kjgxj-2020-final&{query}")
    assert r.status_code == 400 and r.json()["error"].startswith("_where: "), r.text


async def test_a_long_search_is_answered(ds):
    # A sentence pasted (150 Han characters and more) made the abbreviation's LIKE pattern pass the
    # 600-byte limit: the whole search failed.
    sentence = "主要是人员经费和日常公用经费支出情况说明" * 10  # one word of 200 Han characters
    r = await ds.client.get(f"/{DB}/search.json?" + urlencode({"q": sentence, "_shape": "array"}))
    assert r.status_code == 200


# -------------------------------------------------------------------------------------------- HEAD

@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("path", [f"/{DB}/reports.json?_size=2&_shape=array", f"/{DB}/amounts.csv?_stream=on",
                                  "/datapackage/data/amounts.csv", f"/{DB}/amounts", f"/{DB}/no_such_table.json",
                                  "/datapackage/.env", f"/{DB}/amounts.xml"])
async def test_a_head_request_gets_the_gets_status_and_headers_and_no_body(site_db, site_package, path, encoding):
    # A JSON answer's HEAD said content-length: 0 (Datasette empties the GET's body); with gzip
    # accepted it said the uncompressed length, no content-encoding.
    ds = make_app(site_db, metadata=METADATA, package_dir=site_package)
    head = await ds.client.request("HEAD", path, headers={"accept-encoding": encoding})
    get = await ds.client.get(path, headers={"accept-encoding": encoding})
    assert head.status_code == get.status_code and head.content == b""
    for header in ("content-length", "content-type", "content-encoding", "vary"):
        assert head.headers.get(header) == get.headers.get(header), header


async def test_a_head_request_stops_the_answer_at_its_first_write():
    # HEAD /opendata/amounts.csv?_stream=on wrote the whole table's CSV for no one: 10 s of a core at 10^6 rows.
    from opendata.site.client_gone import ClientGone, headers_only

    sent, written = [], []

    async def send(message):
        sent.append(message)

    async def app(send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]})
        for n in range(1000):
            written.append(n)
            await send({"type": "http.response.body", "body": b"a,b\r\n", "more_body": True})

    with pytest.raises(ClientGone):
        await app(headers_only(send))
    assert written == [0]
    assert sent == [{"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]},
                    {"type": "http.response.body", "body": b"", "more_body": False}]
