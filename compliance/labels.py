"""Words shown for stored codes (verdicts, results, crafts...), in the user's language."""

from flask_babel import lazy_gettext as _l

VERDICTS = {
    "compliant": _l("Compliant"),
    "needs_follow_up": _l("Needs follow-up"),
    "non_compliant": _l("Non-compliant"),
}
RESULTS = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")}
MISSING = {
    "unanswered": _l("Not answered yet."),
    "photo_required": _l("A photo is required."),
    "na_not_allowed": _l("N/A is not possible for this item."),
    "unknown_item": _l("Not on this checklist."),
    "bad_result": _l("Choose Pass, Fail or N/A."),
}
VENUE_KINDS = {
    "fan_zone": _l("Fan zone craft village"),
    "medina_market": _l("Medina market"),
    "fair": _l("Craft fair"),
    "stadium": _l("Stadium surroundings"),
}
CATEGORIES = {
    "artisan": _l("Artisan"),
    "master": _l("Master artisan (Maâlem)"),
    "cooperative": _l("Craft cooperative"),
    "enterprise": _l("Craft enterprise"),
}
CRAFTS = {
    "carpets": _l("Carpets and weaving"),
    "pottery": _l("Pottery and ceramics"),
    "leather": _l("Leather"),
    "wood": _l("Woodwork"),
    "copper": _l("Copper and brassware"),
    "jewellery": _l("Jewellery"),
    "clothing": _l("Traditional clothing"),
    "zellige": _l("Zellige and decorative stone"),
    "saddlery": _l("Saddlery"),
    "basketry": _l("Basketry"),
}
ROLES = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "inspector": _l("Inspector"),
}


def label(table: dict, code: str | None) -> str:
    if code is None:
        return "—"
    return str(table.get(code, code))


TEMPLATE_GLOBALS = {
    "verdict_label": lambda code: label(VERDICTS, code),
    "result_label": lambda code: label(RESULTS, code),
    "missing_label": lambda code: label(MISSING, code),
    "venue_kind_label": lambda code: label(VENUE_KINDS, code),
    "category_label": lambda code: label(CATEGORIES, code),
    "craft_label": lambda code: label(CRAFTS, code),
    "role_label": lambda code: label(ROLES, code),
}

# The register import (compliance/register.py): columns, refused rows and files.
REGISTER_COLUMNS = {
    "card_number": _l("Card number (NIA)"),
    "name_ar": _l("Name in Arabic"),
    "name_latin": _l("Name in Latin letters"),
    "craft": _l("Craft"),
    "category": _l("Category"),
    "phone": _l("Phone"),
    "venue": _l("Venue code"),
    "stall_code": _l("Stall code"),
    "location": _l("Location"),
}
ROW_PROBLEMS = {
    "missing": _l("This value is required."),
    "too_long": _l("Too long: at most %(max)s characters."),
    "card_number_invalid": _l(
        "“%(value)s” is not a card number (letters, digits, “-”, “/” or “.”, 3 to 32)."
    ),
    "name_ar_not_arabic": _l("“%(value)s” is not written in Arabic letters."),
    "name_latin_not_latin": _l("“%(value)s” is not written in Latin letters."),
    "craft_unknown": _l("Unknown craft “%(value)s”: choose one from the template's list."),
    "category_unknown": _l("Unknown category “%(value)s”: choose one from the template's list."),
    "phone_invalid": _l("“%(value)s” is not a Moroccan phone number (10 digits, 05 to 08)."),
    "venue_unknown": _l("No venue has the code “%(value)s”."),
    "venue_other_region": _l("The venue “%(value)s” belongs to another region."),
    "stall_code_invalid": _l("“%(value)s” is not a stall code (letters, digits and “-”)."),
    "stall_other_region": _l("The stall “%(value)s” belongs to another region."),
    "stall_repeated": _l("The stall “%(value)s” is already on row %(row)s."),
    "card_number_conflict": _l(
        "The card number “%(value)s” is on row %(row)s with other details (name, craft…)."
    ),
}
FILE_PROBLEMS = {
    "encoding": _l(
        "This file is not in UTF-8. In Excel, save it as “CSV UTF-8” (or send the XLSX file) "
        "and try again."
    ),
    "unreadable": _l("This file cannot be read as a spreadsheet. Send a CSV or XLSX file."),
    "empty": _l("This file has no row to import."),
    "missing_columns": _l("Columns missing from the first row: %(columns)s."),
    "duplicate_column": _l("The column “%(column)s” appears twice in the first row."),
}
IMPORT_PHASES = {
    "reading": _l("Reading the rows"),
    "checking": _l("Comparing with the register"),
    "storing": _l("Storing"),
}
PASSWORD_PROBLEMS = {
    "too_short": _l("At least 10 characters: a few words make a good password."),
    "common": _l("This password is among the most common ones: choose another."),
    "username": _l("The password must not contain the username."),
    "repetitive": _l("Too few different characters: choose another."),
}
STALL_PROBLEMS = {
    "same_stall": _l("The artisan is already at this stall."),
    "stall_closed": _l("The stall %(code)s is closed: open it again first."),
    "stall_taken": _l("The stall %(code)s has another artisan: free it first."),
    "stall_unknown": _l("No stall of your region has the code %(code)s."),
}
UPLOAD_STATES = {
    "uploaded": _l("being checked"),
    "previewed": _l("checked, waiting for your confirmation"),
    "refused": _l("refused, nothing stored"),
    "committed": _l("stored"),
}
ACCOUNT_PROBLEMS = {
    "invitation_unknown": _l("This invitation link is not known. Check that it was copied whole."),
    "invitation_used": _l("This invitation link was already used: the password is set. Log in."),
    "invitation_revoked": _l("This invitation link was cancelled."),
    "invitation_expired": _l("This invitation link has expired (it was valid 72 hours)."),
    "password_weak": _l("Choose a stronger password."),
    "wrong_password": _l("The current password is wrong."),
    "last_admin": _l("This is the last active administrator: make another one first."),
    "role_not_allowed": _l("You cannot give an account this role."),
    "region_not_yours": _l("You can only manage the accounts of your own region."),
    "region_required": _l("Choose the region of this account."),
    "username_taken": _l("Another account already has this username."),
    "account_inactive": _l("This account is deactivated: reactivate it first."),
    "own_account": _l("You cannot deactivate your own account."),
}
# The state of an account's latest invitation (compliance/accounts.py).
INVITATION_STATES = {
    "pending": _l("invitation waiting"),
    "accepted": _l("password set"),
    "expired": _l("invitation expired"),
    "revoked": _l("invitation cancelled"),
    "none": _l("no invitation"),
}
