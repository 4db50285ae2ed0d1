## The `quen` command line, read by the shop owner or whoever runs the server, in
## QUEN_DEFAULT_LANGUAGE. Names of options, settings, invariants, tables and columns stay as they are.

cli-bad-setting = bad setting: { $error }
cli-migrated = database is up to date: { $database }

cli-import-done = { $rows ->
        [one] { $rows } row
       *[other] { $rows } rows
    }: { $imported ->
        [one] { $imported } purchase
       *[other] { $imported } purchases
    } imported, { $duplicates } already there, { $rejected } rejected ({ $new ->
        [one] { $new } new member
       *[other] { $new } new members
    }, { $linked } matched) in { NUMBER($seconds, minimumFractionDigits: 1, maximumFractionDigits: 1) } s
cli-import-rejects = rejected rows, with line numbers and reasons: { $path }

cli-demo-done = demo shop ready in { NUMBER($seconds, minimumFractionDigits: 1, maximumFractionDigits: 1) } s: { $stores ->
        [one] { $stores } store
       *[other] { $stores } stores
    }, { $members ->
        [one] { $members } member
       *[other] { $members } members
    }, { $purchases ->
        [one] { $purchases } purchase
       *[other] { $purchases } purchases
    }, { $rewards ->
        [one] { $rewards } reward
       *[other] { $rewards } rewards
    }, { $vouchers ->
        [one] { $vouchers } voucher
       *[other] { $vouchers } vouchers
    }. Next: quen analyze, then quen chat --as owner and try /stats, /segments.

cli-zalo-needs-app = set QUEN_ZALO_APP_ID, QUEN_ZALO_APP_SECRET, QUEN_ZALO_OA_SECRET_KEY first
cli-zalo-needs-redirect = give --redirect-uri (the callback URL registered for the Zalo app)
cli-zalo-open = Open this link signed in as an admin of the Official Account, and allow access:
cli-zalo-paste = Then paste the `code` from the address Zalo sends you to:
cli-zalo-refused = Zalo did not accept the code: { $error }
cli-zalo-done = Zalo is authorised: the tokens are stored, Quen refreshes them from now on.

cli-apikey-created = key #{ $id } for store { $store } ({ $name }), shown only once:
cli-apikey-revoked = key #{ $id } revoked
cli-apikey-store = store { $store } ({ $name })
cli-apikey-used = last used { $time }
cli-apikey-unused = never used
cli-apikey-live = live
cli-apikey-revoked-on = revoked { $date }
cli-apikey-error-unknown-store = there is no store with that number or name
cli-apikey-error-unknown-key = there is no API key with that number
cli-apikey-error-already-revoked = that key was already revoked

## Why `quen import purchases` imported nothing (loyalty/importer.py).

import-either = { $first } or { $second }
import-refused-no-member-column = Name a customer id column or a phone column (or both).
import-refused-bad-scale = The amount scale must be above 0, not { $scale }.
import-refused-unknown-encoding = Unknown encoding { $encoding }.
import-refused-empty = { $file } is empty.
import-refused-not-csv = { $file } is not a CSV file that can be read (line { $line }: { $error }).
import-refused-undecodable = { $file } is not { $encoding } text: byte 0x{ $byte } on line { $line } is not { $encoding }. Save the file as UTF-8 (in Excel: "CSV UTF-8"), or give its encoding (a Vietnamese Windows export is often cp1258).
import-refused-not-text = { $file } is not { $encoding } text.
import-refused-unreadable = Cannot read { $path }: { $error }.
import-refused-no-rows = { $file } has a header but no purchases.
import-refused-duplicate-column = { $file } has { $count } columns named { $column }.
import-refused-missing-columns = { $file } has no column { $missing }. Its columns are: { $columns }.

## `quen demo` on a database that already has members (loyalty/demo.py).

demo-refused-not-empty = The database already has { $members ->
        [one] { $members } member
       *[other] { $members } members
    }: the demo only fills an empty program. Point QUEN_DATABASE_URL at a new database (for example sqlite://data/demo.sqlite3) and run it again.
