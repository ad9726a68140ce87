"""GOV.UK components the list pages render many times, written in Python with the markup and parameters of
govuk-frontend-jinja's macros (tests/test_components.py checks each renders the same as the macro).

A 20-row, 7-column `govukTable` took about 3 ms through the macro, mostly in calling GOV.UK's attributes
macro twice for every cell; the same markup built here takes a tenth of that, and a list page renders
little else."""

from typing import Any

from markupsafe import Markup, escape


def _attributes(item: dict[str, Any]) -> str:
    spans = "".join(f' {name}="{escape(item[name])}"' for name in ("colspan", "rowspan") if item.get(name))
    attributes = item.get("attributes")
    if attributes:
        spans += "".join(f' {escape(name)}="{escape(value)}"' for name, value in attributes.items())
    return spans


def _classes(base: str, modifier: str | None, extra: str | None) -> str:
    return base + (f" {base}--{modifier}" if modifier else "") + (f" {extra}" if extra else "")


def _cell(tag: str, scope: str, classes: str, item: dict[str, Any]) -> str:
    content = item.get("html") or escape(item.get("text", ""))
    return f'<{tag}{scope} class="{escape(classes)}"{_attributes(item)}>{content}</{tag}>'


def table(params: dict[str, Any]) -> Markup:
    """govukTable(params): caption, captionClasses, head, rows, firstCellIsHeader, classes, attributes."""
    parts = [f'<table class="{escape(_classes("govuk-table", None, params.get("classes")))}"'
             f'{_attributes({"attributes": params.get("attributes")})}>']
    if params.get("caption"):
        parts.append(f'<caption class="{escape(_classes("govuk-table__caption", None, params.get("captionClasses")))}">'
                     f'{escape(params["caption"])}</caption>')
    if params.get("head"):
        parts.append('<thead class="govuk-table__head"><tr class="govuk-table__row">')
        parts += [_cell("th", ' scope="col"', _classes("govuk-table__header", item.get("format"), item.get("classes")),
                        item) for item in params["head"]]
        parts.append("</tr></thead>")
    parts.append('<tbody class="govuk-table__body">')
    row_header = params.get("firstCellIsHeader")
    for row in params.get("rows") or []:
        if not row:
            continue
        parts.append('<tr class="govuk-table__row">')
        for position, cell in enumerate(row):
            if position == 0 and row_header:
                classes = _classes("govuk-table__header", None, cell.get("classes"))
                parts.append(_cell("th", ' scope="row"', classes, cell))
            else:
                classes = _classes("govuk-table__cell", cell.get("format"), cell.get("classes"))
                parts.append(_cell("td", "", classes, cell))
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return Markup("".join(parts))


def _words(item: dict[str, Any]) -> str:
    return item.get("html") or escape(item.get("text", ""))


def _hint(hint_id: str, classes: str, hint: dict[str, Any]) -> str:
    return f'<div id="{escape(hint_id)}" class="{escape(classes)}">{_words(hint)}</div>'


def _error(field_id: str, error: dict[str, Any]) -> str:
    return (f'<p id="{escape(field_id)}-error" class="govuk-error-message">'
            f'<span class="govuk-visually-hidden">Error:</span> {_words(error)}</p>')


def _label(label: dict[str, Any], for_id: str) -> str:
    if not (label.get("html") or label.get("text")):
        return ""
    markup = (f'<label class="{escape(_classes("govuk-label", None, label.get("classes")))}" for="{escape(for_id)}">'
              f"{_words(label)}</label>")
    return f'<h1 class="govuk-label-wrapper">{markup}</h1>' if label.get("isPageHeading") else markup


def _option(item: dict[str, Any], value: Any) -> str:
    chosen = item.get("selected")
    if chosen is None:
        chosen = bool(value) and item.get("value", item.get("text")) == value
    attributes = f' value="{escape(item["value"])}"' if "value" in item else ""
    attributes += " selected" if chosen else ""
    attributes += " disabled" if item.get("disabled") else ""
    return f"<option{attributes}>{escape(item.get('text', ''))}</option>"


def select(params: dict[str, Any]) -> Markup:
    """govukSelect(params): name, id, label, hint, errorMessage, items, value, classes, formGroup.classes.
    A filter of every adviser in London (450 options) took 10 ms through the macro."""
    field_id = params.get("id") or params["name"]
    described, parts = [], []
    error = params.get("errorMessage")
    group = _classes("govuk-form-group", "error" if error else None, (params.get("formGroup") or {}).get("classes"))
    parts.append(f'<div class="{escape(group)}">')
    parts.append(_label(params.get("label") or {}, field_id))
    if params.get("hint"):
        described.append(f"{field_id}-hint")
        parts.append(_hint(f"{field_id}-hint", "govuk-hint", params["hint"]))
    if error:
        described.append(f"{field_id}-error")
        parts.append(_error(field_id, error))
    classes = "govuk-select" + (f" {params['classes']}" if params.get("classes") else "")
    classes += " govuk-select--error" if error else ""
    aria = f' aria-describedby="{escape(" ".join(described))}"' if described else ""
    parts.append(f'<select class="{escape(classes)}" id="{escape(field_id)}" name="{escape(params["name"])}"'
                 f'{" disabled" if params.get("disabled") else ""}{aria}>')
    parts += [_option(item, params.get("value")) for item in params.get("items") or [] if item]
    parts.append("</select></div>")
    return Markup("".join(parts))




def _choice(kind: str, params: dict[str, Any], item: dict[str, Any], index: int, prefix: str) -> str:
    item_id = item.get("id") or (prefix + (f"-{index}" if index > 1 else ""))
    checked = item.get("checked")
    if checked is None:
        checked = item.get("value") in params["values"] if kind == "checkboxes" and params.get("values") else (
            kind == "radios" and bool(params.get("value")) and item.get("value") == params.get("value"))
    hint = item.get("hint") or {}
    described = f' aria-describedby="{escape(item_id)}-item-hint"' if hint.get("text") or hint.get("html") else ""
    name = (item.get("name") or params["name"]) if kind == "checkboxes" else params["name"]
    label = f'<label class="govuk-label govuk-{kind}__label" for="{escape(item_id)}">{_words(item)}</label>'
    parts = [f'<div class="govuk-{kind}__item"><input class="govuk-{kind}__input" id="{escape(item_id)}" '
             f'name="{escape(name)}" type="{"checkbox" if kind == "checkboxes" else "radio"}" '
             f'value="{escape(item.get("value"))}"{" checked" if checked else ""}'
             f'{" disabled" if item.get("disabled") else ""}{described}>', label]
    if described:
        parts.append(_hint(f"{item_id}-item-hint", f"govuk-hint govuk-{kind}__hint", hint))
    parts.append("</div>")
    return "".join(parts)


def _choices(kind: str, params: dict[str, Any]) -> Markup:
    """govukCheckboxes / govukRadios with a fieldset: name, idPrefix, classes, fieldset.legend, hint,
    errorMessage, items (value, text, checked, disabled, hint), values / value."""
    prefix = params.get("idPrefix") or params["name"]
    described, inner = [], []
    if params.get("hint"):
        described.append(f"{prefix}-hint")
        inner.append(_hint(f"{prefix}-hint", "govuk-hint", params["hint"]))
    error = params.get("errorMessage")
    if error:
        described.append(f"{prefix}-error")
        inner.append(_error(prefix, error))
    classes = f"govuk-{kind}" + (f" {params['classes']}" if params.get("classes") else "")
    inner.append(f'<div class="{escape(classes)}" data-module="govuk-{kind}">')
    inner += [_choice(kind, params, item, index, prefix) for index, item in enumerate(params["items"], 1) if item]
    inner.append("</div>")
    legend = params["fieldset"].get("legend") or {}
    words = _words(legend)
    if legend.get("isPageHeading"):
        words = f'<h1 class="govuk-fieldset__heading">{words}</h1>'
    legend_classes = _classes("govuk-fieldset__legend", None, legend.get("classes"))
    legend_html = f'<legend class="{escape(legend_classes)}">{words}</legend>' if words else ""
    aria = f' aria-describedby="{escape(" ".join(described))}"' if described else ""
    fieldset_classes = _classes("govuk-fieldset", None, params["fieldset"].get("classes"))
    group = _classes("govuk-form-group", "error" if error else None, (params.get("formGroup") or {}).get("classes"))
    return Markup(f'<div class="{escape(group)}"><fieldset class="{escape(fieldset_classes)}"{aria}>{legend_html}'
                  f'{"".join(inner)}</fieldset></div>')


def checkboxes(params: dict[str, Any]) -> Markup:
    return _choices("checkboxes", params)


def radios(params: dict[str, Any]) -> Markup:
    return _choices("radios", params)


def tag(params: dict[str, Any]) -> Markup:
    """govukTag(params): text or html, classes, attributes (a list page shows one a row)."""
    return Markup(f'<strong class="{escape(_classes("govuk-tag", None, params.get("classes")))}"'
                  f'{_attributes({"attributes": params.get("attributes")})}>{_words(params)}</strong>')


def _action_link(action: dict[str, Any], card_title: dict[str, Any] | None) -> str:
    hidden = f" {escape(action['visuallyHiddenText'])}" if action.get("visuallyHiddenText") else ""
    hidden += f" ({_words(card_title)})" if card_title else ""
    hidden = f'<span class="govuk-visually-hidden">{hidden}</span>' if hidden else ""
    classes = escape(_classes("govuk-link", None, action.get("classes")))
    return (f'<a class="{classes}" href="{escape(action.get("href", ""))}"'
            f'{_attributes({"attributes": action.get("attributes")})}>{_words(action)}{hidden}</a>')


def summary_list(params: dict[str, Any]) -> Markup:
    """govukSummaryList(params): rows (key, value, actions, classes), classes, attributes, and card (title,
    actions, classes, attributes). The young person's page shows five."""
    card = params.get("card") or None
    card_title = card.get("title") if card else None
    rows = [row for row in params.get("rows") or [] if row]
    any_actions = any((row.get("actions") or {}).get("items") for row in rows)
    parts = [f'<dl class="{escape(_classes("govuk-summary-list", None, params.get("classes")))}"'
             f'{_attributes({"attributes": params.get("attributes")})}>']
    for row in rows:
        actions = row.get("actions") or {}
        items = actions.get("items") or []
        classes = "govuk-summary-list__row" + (" govuk-summary-list__row--no-actions" if any_actions and not items
                                               else "")
        classes += f" {row['classes']}" if row.get("classes") else ""
        key, value = row.get("key") or {}, row.get("value") or {}
        parts.append(f'<div class="{escape(classes)}">'
                     f'<dt class="{escape(_classes("govuk-summary-list__key", None, key.get("classes")))}">'
                     f'{_words(key)}</dt>'
                     f'<dd class="{escape(_classes("govuk-summary-list__value", None, value.get("classes")))}">'
                     f'{_words(value)}</dd>')
        if items:
            action_classes = _classes("govuk-summary-list__actions", None, actions.get("classes"))
            if len(items) == 1:
                parts.append(f'<dd class="{escape(action_classes)}">{_action_link(items[0], card_title)}</dd>')
            else:
                links = "".join(f'<li class="govuk-summary-list__actions-list-item">{_action_link(item, card_title)}'
                                f"</li>" for item in items)
                parts.append(f'<dd class="{escape(action_classes)}"><ul class="govuk-summary-list__actions-list">'
                             f"{links}</ul></dd>")
        parts.append("</div>")
    parts.append("</dl>")
    listed = "".join(parts)
    return Markup(_summary_card(card, listed) if card else listed)


def _summary_card(card: dict[str, Any], listed: str) -> str:
    title = card.get("title") or None
    parts = [f'<div class="{escape(_classes("govuk-summary-card", None, card.get("classes")))}"'
             f'{_attributes({"attributes": card.get("attributes")})}><div class="govuk-summary-card__title-wrapper">']
    if title:
        level = title.get("headingLevel") or 2
        parts.append(f'<h{level} class="{escape(_classes("govuk-summary-card__title", None, title.get("classes")))}">'
                     f"{_words(title)}</h{level}>")
    actions = card.get("actions") or {}
    items = actions.get("items") or []
    classes = escape(_classes("govuk-summary-card__actions", None, actions.get("classes")))
    if len(items) == 1:
        parts.append(f'<div class="{classes}">{_action_link(items[0], title)}</div>')
    elif items:
        links = "".join(f'<li class="govuk-summary-card__action">{_action_link(item, title)}</li>' for item in items)
        parts.append(f'<ul class="{classes}">{links}</ul>')
    parts.append(f'</div><div class="govuk-summary-card__content">{listed}</div></div>')
    return "".join(parts)
