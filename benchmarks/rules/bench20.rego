# The 20-rule pack of benchmarks/bench_rules.py in Rego v1 (see bench20.yaml, rule for rule).
# input = {"action": <the guard's action>, "context": <the guard's context>};
# data.bench.deny is the set of rule ids that hit: empty means allow.
package bench

import rego.v1

act := input.action

params := input.action.params

ctx := input.context

suspended := {"u7", "u42", "u77", "u101", "u133", "u256", "u314", "u402", "u451", "u499"}

# --- every kind ------------------------------------------------------------------
deny contains "suspended-actor" if act.actor in suspended

deny contains "cross-tenant" if act.tenant != ctx.home_tenant

# --- release_payment -------------------------------------------------------------
deny contains "payment-over-limit" if {
	act.kind == "release_payment"
	params.amount > 500
	not ctx.role in {"finance", "admin"}
}

deny contains "payment-without-contract" if {
	act.kind == "release_payment"
	not ctx.has_contract
}

deny contains "payment-currency" if {
	act.kind == "release_payment"
	not params.currency in {"USD", "EUR", "GBP"}
}

deny contains "payment-daily-cap" if {
	act.kind == "release_payment"
	params.amount + ctx.daily_spend > 10000
}

# --- send_message ----------------------------------------------------------------
deny contains "message-contact-before-contract" if {
	act.kind == "send_message"
	not ctx.has_contract
	some needle in ["@", "whatsapp", "telegram"]
	contains(params.body, needle)
}

deny contains "message-external-recipient" if {
	act.kind == "send_message"
	startswith(params.to, "ext:")
	not ctx.role in {"support", "admin"}
}

deny contains "message-mass-send" if {
	act.kind == "send_message"
	params.recipient_count > 50
}

deny contains "message-link-new-account" if {
	act.kind == "send_message"
	ctx.account_age_days < 7
	some scheme in ["http://", "https://"]
	contains(params.body, scheme)
}

# --- call_tool -------------------------------------------------------------------
deny contains "tool-not-allowed" if {
	act.kind == "call_tool"
	not params.tool in {"search", "calculator", "calendar", "translate", "summarize", "shell"}
}

deny contains "tool-dangerous-command" if {
	act.kind == "call_tool"
	some prefix in ["sudo ", "rm ", "curl ", "chmod "]
	startswith(params.command, prefix)
}

deny contains "tool-secret-file" if {
	act.kind == "call_tool"
	some suffix in [".pem", ".key", ".env", "id_rsa"]
	endswith(params.target, suffix)
}

# --- issue_refund ----------------------------------------------------------------
deny contains "refund-over-order" if {
	act.kind == "issue_refund"
	params.amount > params.order_total
}

deny contains "refund-high-risk" if {
	act.kind == "issue_refund"
	ctx.risk_score >= 80
	params.amount > 100
}

deny contains "refund-flagged-account" if {
	act.kind == "issue_refund"
	some flag in ctx.flags
	flag in {"chargeback_history", "fraud_review"}
}

# --- edit_listing ----------------------------------------------------------------
deny contains "listing-price-bounds" if {
	act.kind == "edit_listing"
	params.price < 1
}

deny contains "listing-price-bounds" if {
	act.kind == "edit_listing"
	params.price > 50000
}

deny contains "listing-restricted-category" if {
	act.kind == "edit_listing"
	params.category in {"weapons", "pharma", "tobacco"}
	not ctx.verified
}

deny contains "listing-not-owner" if {
	act.kind == "edit_listing"
	params.owner != act.actor
	ctx.role != "admin"
}

# --- fetch_url -------------------------------------------------------------------
deny contains "fetch-outside-allow-list" if {
	act.kind == "fetch_url"
	not startswith(params.url, "https://")
}

deny contains "fetch-outside-allow-list" if {
	act.kind == "fetch_url"
	not params.host in {"docs.python.org", "en.wikipedia.org"}
	not endswith(params.host, ".marketplace.example")
}
