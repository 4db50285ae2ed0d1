# Trang thu ngân trên web (/cashier) và mã đăng nhập /weblogin.
command-weblogin = Mã đăng nhập trang thu ngân trên web
weblogin-code =
    🔑 Mã đăng nhập trang thu ngân: { $code }
    Chỉ dùng được một lần, hết hạn lúc { $time } ngày { $date }. Mở trang /cashier của quán trên máy tính bảng hoặc máy tính và nhập mã này. Đừng gửi mã cho ai khác.
weblogin-help = Gõ /weblogin để lấy mã cho cửa hàng của bạn, hoặc /weblogin <số cửa hàng> (xem /stores) nếu bạn làm ở mọi cửa hàng.
weblogin-error-store-not-yours = Bạn chỉ lấy được mã cho cửa hàng của mình.
weblogin-error-unknown-store = Không có cửa hàng số này. Xem danh sách bằng /stores.
cashier-menu-button = Thu ngân
cashier-login-error-code-invalid = Mã không đúng. Lấy mã mới bằng /weblogin trong chat.
cashier-login-error-code-used = Mã này đã được dùng rồi. Lấy mã mới bằng /weblogin trong chat.
cashier-login-error-code-expired = Mã này đã hết hạn. Lấy mã mới bằng /weblogin trong chat.
cashier-login-error-locked = Nhập sai quá nhiều lần. Vui lòng chờ 10 phút.
cashier-login-error-not-staff = Tài khoản Telegram này không phải nhân viên của quán.
cashier-login-error-telegram = Không xác thực được với Telegram. Đóng trang rồi mở lại từ nút menu của bot.
cashier-signed-in = { $name } · { $store }
cashier-session-expired = Phiên đăng nhập đã hết. Vui lòng đăng nhập lại.
cashier-bad-request = Yêu cầu không hợp lệ. Tải lại trang rồi thử lại.
cashier-page-title = Thu ngân
cashier-page-login-intro = Nhập mã đăng nhập. Lấy mã bằng lệnh /weblogin trong chat với bot.
cashier-page-code-label = Mã đăng nhập
cashier-page-login-button = Đăng nhập
cashier-page-scan = 📷 Quét mã QR
cashier-page-stop = Dừng quét
cashier-page-lookup-label = Số điện thoại, mã voucher hoặc mã đã quét
cashier-page-lookup-button = Tìm
cashier-page-amount-label = Số tiền hóa đơn
cashier-page-record = Ghi hóa đơn
cashier-page-logout = Đăng xuất
cashier-page-camera-error = Không mở được camera. Hãy cho phép dùng camera, hoặc nhập mã.
cashier-page-network-error = Mất kết nối. Kiểm tra mạng rồi thử lại.
cashier-page-language = English
