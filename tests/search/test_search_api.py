"""GET /api/v1/search and /api/v1/suggest: the contract, facets, filters, sorting, bad input."""

from __future__ import annotations

import pytest

from catalog.network import point_by_code
from catalog.records import Copy, CopyStatus, Record


@pytest.fixture
def catalogue(db, network, index_now):
    """Five records; copies at the central library, two branches and a village bookshop."""
    points = {code: point_by_code(db, code) for code in ("QX", "QX01", "QX02", "QX01V01")}
    records = {
        "hlm": Record(title="红楼梦", authors=["曹雪芹", "高鹗"], clc="I242.47", language="chi",
                      pub_year="1982", isbns=["978-7-02-000220-7"], isbn13="9787020002207",
                      publisher="人民文学出版社"),
        "hlm2": Record(title="红楼梦人物论", authors=["王昆仑"], clc="I207.411", language="chi",
                       pub_year="2004"),
        "sd": Record(title="水稻高产栽培技术", authors=["李明"], clc="S511", language="chi",
                     pub_year="2015", subjects=["水稻-栽培技术"]),
        "py": Record(title="Python crash course", authors=["Matthes, Eric"], clc="TP311.561",
                     language="eng", pub_year="2019"),
        "cq": Record(title="重庆谈判纪实", authors=["曾宪林"], clc="K266.2", language="chi",
                     pub_year="1993"),
    }  # fmt: skip
    db.add_all(records.values())
    n = 0

    def copy(key: str, home: str, status: str = CopyStatus.AVAILABLE, at: str | None = None,
             item_type: str = "book") -> None:  # fmt: skip
        nonlocal n
        n += 1
        db.add(Copy(barcode=f"31000{n:05d}", record=records[key], home_point=points[home],
                    current_point=points[at or home], status=status, item_type=item_type,
                    call_number=f"{records[key].clc}/{n}"))  # fmt: skip

    copy("hlm", "QX")
    copy("hlm", "QX", CopyStatus.ON_LOAN)
    copy("hlm", "QX01V01")
    copy("hlm2", "QX02")
    copy("sd", "QX01", item_type="reference")
    copy("sd", "QX01", CopyStatus.IN_TRANSIT)
    copy("py", "QX02", at="QX01")
    db.commit()
    index_now()
    return {k: r.id for k, r in records.items()}


def test_search_answers_total_hits_and_facets(client, catalogue):
    body = client.get("/api/v1/search?q=红楼梦").json
    assert body["total"] == 2
    first = body["hits"][0]
    assert first["id"] == catalogue["hlm"] and first["title"] == "红楼梦"
    assert first["highlight"] == "<mark>红楼梦</mark>"
    assert first["held"] == 3 and first["on_shelf"] == 2
    assert {a["point"] for a in first["availability"]} == {"QX", "QX01V01"}
    assert body["facets"]["point"][0]["value"] in {"QX", "QX01V01", "QX02"}
    assert {f["value"] for f in body["facets"]["clc"]} == {"I"}
    assert body["facets"]["clc"][0]["label"].startswith("I 文学")
    assert body["backend"] in ("embedded", "elasticsearch") and body["degraded"] is False


def test_the_readers_point_comes_first_in_availability(client, catalogue):
    hit = client.get("/api/v1/search?q=红楼梦&point=QX01V01").json["hits"][0]
    assert hit["availability"][0]["point"] == "QX01V01"
    hit = client.get("/api/v1/search?q=红楼梦&point=QX").json["hits"][0]
    assert hit["availability"][0] == {"point": "QX", "name": "清溪县图书馆", "kind": "central",
                                      "held": 2, "on_shelf": 1}  # fmt: skip


def test_availability_is_live_not_from_the_index(client, db, catalogue):
    copy = db.query(Copy).filter(Copy.record_id == catalogue["hlm"], Copy.status == "on_loan").one()
    copy.status = CopyStatus.AVAILABLE
    db.commit()  # not indexed: the result line reads the database
    assert client.get("/api/v1/search?q=红楼梦").json["hits"][0]["on_shelf"] == 3


def test_filters_on_the_shelf_at_a_point_and_under_a_branch(client, catalogue):
    def ids(query: str) -> set[int]:
        return {h["id"] for h in client.get("/api/v1/search?" + query).json["hits"]}

    assert ids("q=红楼梦&shelf=QX01V01") == {catalogue["hlm"]}
    assert ids("q=红楼梦&shelf=QX02") == {catalogue["hlm2"]}
    assert ids("under=QX01") == {catalogue["hlm"], catalogue["sd"], catalogue["py"]}
    assert ids("under=QX02") == {catalogue["hlm2"]}  # the Python book sits at QX01 now
    assert ids("kind=village_bookshop") == {catalogue["hlm"]}
    assert ids("clc=S&under=QX") == {catalogue["sd"]}
    assert ids("language=eng&under=QX") == {catalogue["py"]}
    assert ids("item_type=reference&under=QX") == {catalogue["sd"]}
    assert ids("year=1980-1999&under=QX") == {catalogue["hlm"]}


def test_sort_by_year_and_by_title_in_pinyin_order(client, catalogue):
    def titles(sort: str) -> list[str]:
        body = client.get(f"/api/v1/search?under=QX&sort={sort}").json
        return [h["title"] for h in body["hits"]]

    assert titles("year") == ["Python crash course", "水稻高产栽培技术", "红楼梦人物论", "红楼梦"]
    assert titles("title") == ["红楼梦", "红楼梦人物论", "Python crash course", "水稻高产栽培技术"]


def test_pagination(client, catalogue):
    page1 = client.get("/api/v1/search?under=QX&size=2&sort=title").json
    page2 = client.get("/api/v1/search?under=QX&size=2&page=2&sort=title").json
    page9 = client.get("/api/v1/search?under=QX&size=2&page=9").json
    assert page1["total"] == page2["total"] == page9["total"] == 4
    assert [h["title"] for h in page1["hits"] + page2["hits"]][1:3] == [
        "红楼梦人物论",
        "Python crash course",
    ]
    assert page9["hits"] == []


def test_pinyin_initials_polyphones_isbn_and_clc(client, catalogue):
    def first(q: str) -> int | None:
        hits = client.get("/api/v1/search", query_string={"q": q}).json["hits"]
        return hits[0]["id"] if hits else None

    for q in ("hongloumeng", "hong lou meng", "hlm", "红lm", "紅樓夢", "7-02-000220-X",
              "978-7-02-000220-7", "I242.47", "I24"):  # fmt: skip
        assert first(q) == catalogue["hlm"], q
    for q in ("chongqing", "zhongqing", "zengxianlin", "cqtpjs"):
        assert first(q) == catalogue["cq"], q
    assert first("pyhton") == catalogue["py"]
    assert first("shuidao") == catalogue["sd"]


def test_initials_between_han_may_stand_for_a_word_of_their_own(client, catalogue):
    """水gc栽培: 高产 in the middle of 水稻高产栽培技术; 红lm人物: 红楼梦 finished by lm."""
    for q, key in (("水gc栽培", "sd"), ("红lm人物", "hlm2")):
        hits = client.get("/api/v1/search", query_string={"q": q}).json["hits"]
        assert [h["id"] for h in hits][:1] == [catalogue[key]], q


def test_highlight_marks_han_text_matched_by_pinyin(client, catalogue):
    hit = client.get("/api/v1/search?q=hongloumeng").json["hits"][0]
    assert hit["highlight"] == "<mark>红楼梦</mark>"


def test_suggest_by_title_prefix_pinyin_and_initials(client, catalogue):
    for q in ("红", "紅樓", "hong", "honglou", "hl", "Pyth"):
        titles = [
            s["title"]
            for s in client.get("/api/v1/suggest", query_string={"q": q}).json["suggestions"]
        ]
        assert titles and titles[0] in ("红楼梦", "红楼梦人物论", "Python crash course"), q
    assert client.get("/api/v1/suggest?q=%20").json["suggestions"] == []


@pytest.mark.parametrize(
    "query",
    [
        "page=0", "page=-1", "page=abc", "page=99999999999999999999999", "size=0", "size=1000",
        "size=1e3", "sort=popularity", "point=NOPE", "point=QX%27%3B--", "shelf=%E4%B8%AD",
        "under=NOPE", "year=1066", "kind=a%20b", "q=" + "x" * 300, "page=10000&size=100",
    ],
)  # fmt: skip
def test_bad_parameters_get_a_4xx_in_the_one_error_shape(client, catalogue, query):
    response = client.get("/api/v1/search?" + query)
    assert 400 <= response.status_code < 500, response.data
    assert set(response.json["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "q", ['"', '"红楼梦', "红楼梦\"", "\x00\x1f\x7f", "%", "_", "*", "title:", ":", "()",
          "' OR 1=1 --", "\u202e红", "𠀀𠀁", "ａｂｃ", "AND OR NOT", "NEAR(a b)", "-", "^"],
)  # fmt: skip
def test_odd_queries_get_a_sensible_answer(client, catalogue, q):
    response = client.get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200, response.data
    assert response.json["total"] >= 0
    suggest = client.get("/api/v1/suggest", query_string={"q": q[:64] or "x"})
    assert suggest.status_code == 200


def test_suggest_bad_input(client, catalogue):
    assert client.get("/api/v1/suggest").status_code == 422
    assert client.get("/api/v1/suggest?q=" + "x" * 100).status_code == 422
    assert client.get("/api/v1/suggest?q=a&size=0").status_code == 422


@pytest.mark.parametrize("q", ["红楼梦", "hlm", "python", "水稻", "I2", "zzzz"])
def test_the_response_is_exactly_what_its_schema_documents(client, catalogue, q):
    """The view keeps the schema's fields itself (app.api.search.dumped), without marshmallow:
    dumping its answer through SearchResponseSchema changes nothing."""
    from app.api.search import SearchResponseSchema

    body = client.get("/api/v1/search", query_string={"q": q, "size": 3}).json
    assert SearchResponseSchema().dump(body) == body
    assert set(body) == set(SearchResponseSchema().fields)
    for hit in body["hits"]:
        assert {"id", "title", "highlight", "held", "on_shelf", "availability"} <= set(hit)


def test_search_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/search", "/api/v1/suggest"} <= set(spec["paths"])
    parameters = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "page", "size", "point", "sort", "shelf", "under"} <= parameters


def test_patrons_are_never_indexed(app, db, catalogue):
    from catalog.network import all_points
    from catalog.search.document import Document, point_infos
    from catalog.search.indexer import build_documents

    documents, _ = build_documents(db, list(catalogue.values()), point_infos(all_points(db)))
    assert all(isinstance(d, Document) for d in documents)
    fields = {name for d in documents for name in vars(d)} | {
        k for d in documents for k in d.display
    }
    assert not {"patron", "patron_id", "card", "borrower"} & fields
