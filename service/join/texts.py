"""The join page's words in English and Ukrainian, and plans and prices in the reader's locale (Babel; no
Flask). A locale the page has no words for falls back to English; numbers and prices still follow it."""

from __future__ import annotations

from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.units import format_unit

from service.campaigns import locales
from service.join.plans import Plan

LANGUAGES = ("en", "uk")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Become a member",
        "progress": "{count} of {goal} members",
        "progress_label": "Members so far",
        "choose": "Choose your membership",
        "continue": "Continue to payment",
        "secure": "You pay securely with Stripe. You can cancel at any time.",
        "price_at_checkout": "price shown at checkout",
        "no_plans": "Joining online is not available yet: no membership plans are set up. Please come back soon.",
        "no_campaign": "There is no membership drive running right now, but you can still become a member.",
        "checkout_failed": "We could not start the payment: {detail} Please try again in a moment.",
        "working": "Taking you to the payment page…",
        "language": "Language",
        "welcome_title": "Welcome, and thank you!",
        "welcome_claiming": "Signing you in…",
        "welcome_finish": "Finish signing in",
        "welcome_signed_in": "You are a member and signed in as {email}.",
        "welcome_continue": "Continue reading",
        "welcome_verify": "Thank you for joining. To sign in, open the link we have just sent to your e-mail "
                          "address: check your inbox.",
        "welcome_pending": "Your payment is not confirmed yet. Wait a moment, then try again.",
        "welcome_unknown": "We could not find this payment. If you paid, use the link in your receipt e-mail "
                           "or ask for a sign-in link.",
        "welcome_failed": "Signing in did not work: {detail}",
        "welcome_missing": "This page is where you land after paying. Start on the join page.",
        "back_to_join": "Back to the join page",
        "try_again": "Try again",
    },
    "uk": {
        "title": "Станьте членом спільноти",
        "progress": "{count} з {goal} членів",
        "progress_label": "Членів спільноти вже",
        "choose": "Оберіть членство",
        "continue": "Перейти до оплати",
        "secure": "Оплата безпечно через Stripe. Скасувати можна будь-коли.",
        "price_at_checkout": "ціну буде показано під час оплати",
        "no_plans": "Приєднатися онлайн поки неможливо: плани членства ще не налаштовані. Завітайте згодом.",
        "no_campaign": "Зараз кампанія не триває, але ви все одно можете стати членом спільноти.",
        "checkout_failed": "Не вдалося розпочати оплату: {detail} Спробуйте ще раз за хвилину.",
        "working": "Переходимо на сторінку оплати…",
        "language": "Мова",
        "welcome_title": "Вітаємо і дякуємо!",
        "welcome_claiming": "Виконуємо вхід…",
        "welcome_finish": "Завершити вхід",
        "welcome_signed_in": "Ви член спільноти й увійшли як {email}.",
        "welcome_continue": "Читати далі",
        "welcome_verify": "Дякуємо, що приєдналися. Щоб увійти, відкрийте посилання, яке ми щойно надіслали "
                          "на вашу електронну пошту: перевірте вхідні листи.",
        "welcome_pending": "Оплату ще не підтверджено. Зачекайте хвилину і спробуйте знову.",
        "welcome_unknown": "Ми не знайшли цієї оплати. Якщо ви заплатили, скористайтеся посиланням з листа-"
                           "квитанції або попросіть посилання для входу.",
        "welcome_failed": "Увійти не вдалося: {detail}",
        "welcome_missing": "Сюди ви потрапляєте після оплати. Почніть зі сторінки приєднання.",
        "back_to_join": "Назад до сторінки приєднання",
        "try_again": "Спробувати ще раз",
    },
}

PLAN_NAMES = {
    "en": {"day": "Daily", "week": "Weekly", "month": "Monthly", "year": "Yearly"},
    "uk": {"day": "Щодня", "week": "Щотижня", "month": "Щомісяця", "year": "Щороку"},
}
PER_INTERVAL = {
    "en": {"day": "a day", "week": "a week", "month": "a month", "year": "a year"},
    "uk": {"day": "на день", "week": "на тиждень", "month": "на місяць", "year": "на рік"},
}
EVERY = {"en": "every {n}", "uk": "кожні {n}"}


def language_of(tag: str | None) -> str | None:
    """The page language of a tag ('uk-UA' -> 'uk'), None when the page has no words in it."""
    norm = locales.normalize_locale(tag)
    lang = norm.split("_")[0] if norm else None
    return lang if lang in LANGUAGES else None


def text(lang: str, key: str, **values: str) -> str:
    template = TEXTS.get(lang, TEXTS["en"]).get(key) or TEXTS["en"][key]
    return template.format(**values) if values else template


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def plan_name(plan: Plan, lang: str) -> str:
    """'Monthly' for a price billed every month; else the price's nickname, else the plan's own name."""
    if plan.interval and plan.interval_count == 1 and plan.interval in PLAN_NAMES["en"]:
        return PLAN_NAMES.get(lang, PLAN_NAMES["en"])[plan.interval]
    return plan.nickname or plan.name.replace("_", " ").replace("-", " ").capitalize()


def price_text(plan: Plan, lang: str) -> str:
    """'€5.00 a month', '5,00 € на місяць', '€30.00 every 3 months'; the checkout fallback without an amount."""
    if plan.amount is None or not plan.currency:
        return text(lang, "price_at_checkout")
    amount = format_currency(plan.amount / 10 ** get_currency_precision(plan.currency), plan.currency, locale=lang)
    if not plan.interval:
        return amount
    if plan.interval_count == 1:
        return f"{amount} {PER_INTERVAL.get(lang, PER_INTERVAL['en'])[plan.interval]}"
    span = format_unit(plan.interval_count, f"duration-{plan.interval}", locale=lang, length="long")
    return f"{amount} {EVERY.get(lang, EVERY['en']).format(n=span)}"
