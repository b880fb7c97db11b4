"""The words of the join page's ways to support (membership at a chosen amount, give once, give a gift) in
English and Ukrainian (no Flask). A key missing in a language falls back to English."""

from __future__ import annotations

SUPPORT_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "ways": "Ways to support",
        "kind_membership": "Become a member",
        "kind_contribution": "Give once",
        "kind_gift": "Give a gift",
        "currency": "Currency",
        "update": "Show amounts in this currency",
        "amount_legend": "Choose your amount",
        "amount_legend_plan": "Your amount, {plan}",
        "other_amount": "Other amount",
        "custom_label": "Other amount in {currency}",
        "minimum": "At least {minimum}.",
        "example": "For example {example}.",
        "from_price": "from {price}",
        "contribution_intro": "A one-time gift to the newsroom. It does not make you a member.",
        "gift_intro": "Give someone a membership. We e-mail them a link to start it on the day you choose.",
        "gift_months": "Length of the gift",
        "gift_option": "{months}: {price}",
        "gift_recipient": "Who is it for?",
        "gift_email": "Recipient's e-mail address",
        "gift_name": "Recipient's name (optional)",
        "gift_message": "Message to the recipient (optional)",
        "gift_deliver_on": "Send it on (optional; today if empty)",
        "no_gifts": "Gift memberships are not on sale right now.",
        "err_amount_minimum": "The smallest amount in {currency} is {minimum}.",
        "err_amount": "Enter an amount as a number, for example {example}.",
        "err_amount_required": "Choose an amount or enter your own.",
        "err_currency": "This choice is not sold in that currency: choose another currency.",
        "err_gift.months": "Choose how long the gift lasts.",
        "err_gift.recipient_email": "Enter the recipient's e-mail address, for example name@example.org.",
        "err_gift.recipient_name": "The name is too long (200 characters at most).",
        "err_gift.message": "The message is too long (500 characters at most).",
        "err_gift.deliver_on": "Choose a day from today to one year ahead.",
        "err_gift": "Fill in the gift's length and the recipient's e-mail address.",
        "err_plan": "Choose a membership plan.",
        "fix_below": "Please check the highlighted field below.",
    },
    "uk": {
        "ways": "Як підтримати",
        "kind_membership": "Стати членом",
        "kind_contribution": "Разовий внесок",
        "kind_gift": "Подарувати",
        "currency": "Валюта",
        "update": "Показати суми в цій валюті",
        "amount_legend": "Оберіть суму",
        "amount_legend_plan": "Ваша сума, {plan}",
        "other_amount": "Інша сума",
        "custom_label": "Інша сума, {currency}",
        "minimum": "Щонайменше {minimum}.",
        "example": "Наприклад, {example}.",
        "from_price": "від {price}",
        "contribution_intro": "Одноразовий внесок на підтримку редакції. Членом спільноти він вас не робить.",
        "gift_intro": "Подаруйте комусь членство. Ми надішлемо посилання, щоб його активувати, в обраний вами день.",
        "gift_months": "Тривалість подарунка",
        "gift_option": "{months}: {price}",
        "gift_recipient": "Кому подарунок?",
        "gift_email": "Електронна пошта отримувача",
        "gift_name": "Ім'я отримувача (необов'язково)",
        "gift_message": "Повідомлення отримувачу (необов'язково)",
        "gift_deliver_on": "Надіслати (необов'язково; якщо не вказано — сьогодні)",
        "no_gifts": "Подарункове членство зараз не продається.",
        "err_amount_minimum": "Найменша сума в {currency} — {minimum}.",
        "err_amount": "Введіть суму числом, наприклад {example}.",
        "err_amount_required": "Оберіть суму або введіть свою.",
        "err_currency": "У цій валюті це не продається: оберіть іншу валюту.",
        "err_gift.months": "Оберіть тривалість подарунка.",
        "err_gift.recipient_email": "Введіть електронну адресу отримувача, наприклад name@example.org.",
        "err_gift.recipient_name": "Ім'я задовге (щонайбільше 200 символів).",
        "err_gift.message": "Повідомлення задовге (щонайбільше 500 символів).",
        "err_gift.deliver_on": "Оберіть день від сьогодні до року наперед.",
        "err_gift": "Вкажіть тривалість подарунка та електронну адресу отримувача.",
        "err_plan": "Оберіть план членства.",
        "fix_below": "Перевірте позначене поле нижче.",
    },
}


def say(lang: str, key: str, **values: str) -> str:
    template = SUPPORT_TEXTS.get(lang, SUPPORT_TEXTS["en"]).get(key) or SUPPORT_TEXTS["en"][key]
    return template.format(**values) if values else template


def has(key: str) -> bool:
    return key in SUPPORT_TEXTS["en"]
