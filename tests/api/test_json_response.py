"""apikit.views.json_response: JSON text made elsewhere (RawJson) goes into the body verbatim."""

import json

from apikit.views import RawJson, json_response


def test_raw_json_is_written_verbatim_and_first():
    items = '[{"id" : "a", "n" : 1}, {"id" : "b"}]'
    response = json_response({"count": 2, "items": RawJson(items), "filter": 'q"'}, status=201)

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.content.decode()
    assert body.startswith('{"items": ' + items + ", ")
    assert list(json.loads(body).items()) == [
        ("items", [{"id": "a", "n": 1}, {"id": "b"}]),
        ("count", 2),
        ("filter", 'q"'),
    ]


def test_only_raw_values_and_no_raw_values():
    assert json.loads(json_response({"items": RawJson("[]")}).content) == {"items": []}
    plain = json_response({"a": [1, "x"]})
    assert plain.content == b'{"a": [1, "x"]}'
