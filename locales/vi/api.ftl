## /apikeys: khóa API cho máy tính tiền (POS) của từng cửa hàng (chỉ chủ quán)

command-apikeys = Khóa API cho máy tính tiền (POS)
apikeys-title = 🔑 Khóa API:
apikeys-line = #{ $id } · { $store } · { $code }… · tạo ngày { $date } · { $state }
apikeys-state-unused = chưa dùng
apikeys-state-used = dùng lần cuối { $date }
apikeys-state-revoked = đã thu hồi { $date }
apikeys-none = Chưa có khóa API nào. Tạo bằng: /apikeys create <số hoặc tên cửa hàng>
apikeys-help = Tạo: /apikeys create <cửa hàng> · Thu hồi: /apikeys revoke <số khóa>
apikeys-created =
    🔑 Khóa API #{ $id } cho cửa hàng «{ $store }»:
    { $code }
    Khóa chỉ hiện một lần này. Dán vào máy tính tiền (header Authorization: Bearer …), rồi xóa tin nhắn này.
apikeys-revoked = Đã thu hồi khóa #{ $id }. Máy tính tiền dùng khóa này sẽ bị từ chối ngay.
apikeys-error-unknown-store = Không tìm thấy cửa hàng này. Xem danh sách bằng /stores.
apikeys-error-unknown-key = Không có khóa API số này.
apikeys-error-already-revoked = Khóa này đã được thu hồi trước đó.
