"""How receipts (circulation/receipts.py) look in JSON: one schema per value, for the OpenAPI."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api.fields import UtcDateTime


class NoteSchema(Schema):
    code = fields.String()
    en = fields.String()
    zh = fields.String()


class PointRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class CopyRefSchema(Schema):
    barcode = fields.String()
    record_id = fields.Integer()
    title = fields.String()
    call_number = fields.String()
    home = fields.String()
    item_type = fields.String()


class PatronRefSchema(Schema):
    card = fields.String()
    name = fields.String()
    slip_name = fields.String(metadata={"description": "masked name and card tail for slips"})


class LoanSchema(Schema):
    id = fields.Integer()
    patron = fields.Nested(PatronRefSchema, allow_none=True)
    due_date = fields.Date()
    renewals = fields.Integer()
    checked_out_at = UtcDateTime()
    point = fields.String(metadata={"description": "code of the point that lent it"})
    days_overdue = fields.Integer()


class HoldRefSchema(Schema):
    id = fields.Integer()
    patron = fields.Nested(PatronRefSchema, allow_none=True)
    pickup = fields.Nested(PointRefSchema)
    status = fields.String()
    shelf_until = fields.Date(allow_none=True)


class FineRefSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    amount = fields.Decimal(as_string=True)


class CheckoutReceiptSchema(Schema):
    action = fields.Constant("lent")
    due_date = fields.Function(lambda r: r.loan.due_date.isoformat())
    copy = fields.Nested(CopyRefSchema)
    point = fields.Nested(PointRefSchema)
    instruction = fields.Nested(NoteSchema)
    notes = fields.List(fields.Nested(NoteSchema))


class CheckoutResultSchema(Schema):
    loan = fields.Nested(LoanSchema)
    receipt = fields.Nested(CheckoutReceiptSchema)


class CheckinReceiptSchema(Schema):
    action = fields.String(metadata={"description": "shelve, hold_shelf or transit"})
    destination = fields.Function(
        lambda r: r.destination.code if r.destination else None,
        metadata={"description": "code of the point to send it to (transit), else null"},
    )
    destination_name = fields.Function(lambda r: r.destination.name if r.destination else None)
    instruction = fields.Nested(NoteSchema)
    copy = fields.Nested(CopyRefSchema)
    point = fields.Nested(PointRefSchema)
    loan = fields.Nested(LoanSchema, allow_none=True)
    hold = fields.Nested(HoldRefSchema, allow_none=True)
    transit_id = fields.Integer(allow_none=True)
    fine = fields.Nested(FineRefSchema, allow_none=True)
    notes = fields.List(fields.Nested(NoteSchema))


class CheckinResultSchema(Schema):
    receipt = fields.Nested(CheckinReceiptSchema)


class RenewalReceiptSchema(Schema):
    action = fields.Constant("renewed")
    previous_due_date = fields.Date()
    due_date = fields.Function(lambda r: r.loan.due_date.isoformat())
    copy = fields.Nested(CopyRefSchema)
    point = fields.Nested(PointRefSchema)
    instruction = fields.Nested(NoteSchema)
    notes = fields.List(fields.Nested(NoteSchema))


class RenewalResultSchema(Schema):
    loan = fields.Nested(LoanSchema)
    receipt = fields.Nested(RenewalReceiptSchema)


# One instance each, made once: a schema instance builds its nested schemas on first use, and
# building them again for every checkout cost more than the dump itself.
CHECKOUT_RESULT = CheckoutResultSchema()
CHECKIN_RESULT = CheckinResultSchema()
CHECKIN_RECEIPT = CheckinReceiptSchema()
RENEWAL_RESULT = RenewalResultSchema()
