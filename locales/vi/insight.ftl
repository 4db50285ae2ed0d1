## Hiểu khách hàng: /stats, /segments, /customer, /export (chủ quán).

command-stats = Số liệu: khách, doanh thu, tỷ lệ quay lại
command-segments = Nhóm khách (RFM) và nên làm gì
command-customer = Hồ sơ một khách theo số điện thoại
command-export = Xuất danh sách khách (CSV)

stats-all-stores = mọi cửa hàng
stats-help = Dùng /stats [7|30|90|365] [số cửa hàng trong /stores], ví dụ /stats 30 hoặc /stats 7 2.
stats-summary =
    📊 { $days } ngày gần nhất · { $store }
    Thành viên: { $members } (mới: { $new }, có mua: { $active })
    Hóa đơn: { $purchases } · Doanh thu: { $revenue } · Trung bình: { $aov }
    Khách quay lại trong 30 ngày: { $repeat }
    Voucher đã dùng / đã phát: { $redemption }
    Khách rời đi (30 ngày): { $churn }
    Điểm chưa dùng: { $points } (≈ { $liability })
chart-title = { $days } ngày gần nhất
chart-visits = Lượt mua
chart-revenue = Doanh thu
chart-segments = Thành viên theo nhóm
chart-cohorts = Giữ chân theo tháng mua đầu tiên
chart-months-since = Số tháng sau lần mua đầu
chart-million = tr
chart-no-data = Chưa có dữ liệu

segments-none-yet = Chưa có phân tích nào. Phân tích chạy mỗi đêm lúc 02:00 (hoặc chạy ngay bằng lệnh quen analyze trên máy chủ).
segments-title = 👥 Nhóm khách (phân tích ngày { $date })
segments-line = • { $segment }: { $count } — { $about } 👉 { $todo }
segments-members = Một vài khách trong nhóm { $segment }:
segments-member = • { $name } ({ $phone }): { $visits } lần, { $spend }, lần cuối { $last }

segment-champions = Khách ruột
segment-champions-about = mua gần đây và thường xuyên.
segment-champions-todo = Cảm ơn, mời thử món mới, đừng giảm giá thừa.
segment-loyal = Trung thành
segment-loyal-about = mua thường xuyên, lần gần nhất chưa lâu.
segment-loyal-todo = Tặng ưu đãi hạng, mời giới thiệu bạn bè.
segment-potential = Có thể thành khách ruột
segment-potential-about = mới quay lại vài lần.
segment-potential-todo = Nhắc tích điểm để lên hạng.
segment-new = Khách mới
segment-new-about = mới mua lần đầu.
segment-new-todo = Chào mừng, tặng lý do quay lại lần hai.
segment-promising = Hứa hẹn
segment-promising-about = mua một lần, cách đây chưa lâu.
segment-promising-todo = Gửi ưu đãi cho lần ghé thứ hai.
segment-attention = Cần chú ý
segment-attention-about = mua khá đều nhưng thưa dần.
segment-attention-todo = Ưu đãi có hạn để kéo về.
segment-sleeping = Sắp ngủ quên
segment-sleeping-about = ít mua và đã lâu không ghé.
segment-sleeping-todo = Nhắc nhẹ kèm món họ thích.
segment-at-risk = Có nguy cơ mất
segment-at-risk-about = từng mua nhiều nhưng lâu rồi không quay lại.
segment-at-risk-todo = Voucher "nhớ bạn" hấp dẫn.
segment-cant-lose = Không thể để mất
segment-cant-lose-about = từng là khách ruột, nay vắng lâu.
segment-cant-lose-todo = Liên hệ riêng, ưu đãi mạnh.
segment-hibernating = Ngủ đông
segment-hibernating-about = ít mua, vắng đã lâu.
segment-hibernating-todo = Chỉ gửi khi có ưu đãi lớn.
segment-lost = Đã rời đi
segment-lost-about = một hai lần, rất lâu rồi.
segment-lost-todo = Không tốn chi phí; thử lại vào dịp lớn.

customer-not-found = Không tìm thấy thành viên với số điện thoại này.
customer-not-analysed = { $name } chưa có trong bản phân tích gần nhất (phân tích chạy mỗi đêm).
customer-profile =
    👤 { $name } — hạng { $tier } — { $points } điểm
    Đã mua { $visits } lần, tổng { $spend } (trung bình { $average })
    Hay gọi: { $favourites }
    Thường ghé: { $weekday }, khoảng { $hour }
    Nhóm: { $segment } · Khả năng còn quay lại: { $alive } · Giá trị 12 tháng tới: { $value }
weekday-0 = Thứ Hai
weekday-1 = Thứ Ba
weekday-2 = Thứ Tư
weekday-3 = Thứ Năm
weekday-4 = Thứ Sáu
weekday-5 = Thứ Bảy
weekday-6 = Chủ Nhật

export-done = 📄 Danh sách { $count } thành viên kèm điểm số (CSV, mở bằng Excel hoặc Google Sheets).
