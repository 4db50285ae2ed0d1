# The cashier web page (/cashier) and its /weblogin codes.
command-weblogin = A login code for the cashier web page
weblogin-code =
    🔑 Cashier web page login code: { $code }
    It works once and expires at { $time } on { $date }. Open the shop's /cashier page on the tablet or computer and type it in. Don't send it to anyone.
weblogin-help = Type /weblogin for a code for your store, or /weblogin <store number> (see /stores) if you work in all stores.
weblogin-error-store-not-yours = You can only get a code for your own store.
weblogin-error-unknown-store = There is no store with that number. See the list with /stores.
cashier-menu-button = Till
cashier-login-error-code-invalid = That code is not right. Get a new one with /weblogin in the chat.
cashier-login-error-code-used = That code was already used. Get a new one with /weblogin in the chat.
cashier-login-error-code-expired = That code has expired. Get a new one with /weblogin in the chat.
cashier-login-error-locked = Too many wrong codes. Please wait 10 minutes.
cashier-login-error-not-staff = This Telegram account is not on the shop's staff.
cashier-login-error-telegram = Telegram could not confirm who you are. Close the page and open it again from the bot's menu button.
cashier-signed-in = { $name } · { $store }
cashier-session-expired = Your session has ended. Please log in again.
cashier-bad-request = That request was not valid. Reload the page and try again.
cashier-page-title = Till
cashier-page-login-intro = Type your login code. Get one with /weblogin in the chat with the bot.
cashier-page-code-label = Login code
cashier-page-login-button = Log in
cashier-page-scan = 📷 Scan a QR code
cashier-page-stop = Stop scanning
cashier-page-lookup-label = Phone number, voucher code or scanned code
cashier-page-lookup-button = Find
cashier-page-amount-label = Bill amount
cashier-page-record = Record the bill
cashier-page-logout = Log out
cashier-page-camera-error = The camera could not be opened. Allow the camera, or type the code.
cashier-page-network-error = No connection. Check the network and try again.
cashier-page-language = Tiếng Việt
