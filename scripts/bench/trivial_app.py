"""The ceiling for scripts/bench/circulation.py: the same calls answered by Flask with no work.

It parses the JSON body and answers a small JSON object, as the real endpoints do, so the
difference to Tongjie's figures is what checkout and check-in themselves cost.
"""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/checkouts")
def checkout() -> tuple:
    return jsonify({"loan": {"barcode": (request.get_json() or {}).get("barcode")}}), 201


@app.post("/api/v1/checkins")
def checkin() -> tuple:
    return jsonify({"receipt": {"barcode": (request.get_json() or {}).get("barcode")}}), 200
