## /apikeys: API keys for each store's till system (POS) (owners only)

command-apikeys = API keys for the till system (POS)
apikeys-title = 🔑 API keys:
apikeys-line = #{ $id } · { $store } · { $code }… · created { $date } · { $state }
apikeys-state-unused = never used
apikeys-state-used = last used { $date }
apikeys-state-revoked = revoked { $date }
apikeys-none = No API keys yet. Create one with: /apikeys create <store number or name>
apikeys-help = Create: /apikeys create <store> · Revoke: /apikeys revoke <key number>
apikeys-created =
    🔑 API key #{ $id } for «{ $store }»:
    { $code }
    It is shown only this once. Paste it into the till system (header Authorization: Bearer …), then delete this message.
apikeys-revoked = Key #{ $id } revoked. A till using it is refused from now on.
apikeys-error-unknown-store = That store doesn't exist. See the list with /stores.
apikeys-error-unknown-key = There is no API key with that number.
apikeys-error-already-revoked = That key was already revoked.
