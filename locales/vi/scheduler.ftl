## Việc chạy theo lịch: quà sinh nhật, quà mời quay lại, nhắc điểm sắp hết hạn, sắp lên hạng,
## cài đặt của chủ quán và lệnh /jobs. Mỗi khóa ở đây phải có trong en/scheduler.ftl.
## Tin ưu đãi: nhãn [QC] và cách ngừng nhận do bộ gửi tự thêm, voucher đi kèm dưới dạng ảnh.

offer-points-expiring = ⏳ { $name } ơi, { $points } điểm của bạn sẽ hết hạn trong 7 ngày tới, sớm nhất vào ngày { $date }. Gửi /rewards để đổi quà trước khi điểm hết hạn nhé!
offer-tier-nudge = 🏅 { $name } ơi, bạn chỉ còn { $points } điểm nữa là lên hạng { $tier }! Hẹn gặp bạn ở { $shop } nhé.

## Cài đặt (chủ quán)

settings-birthday = • Quà sinh nhật: «{ $title }» (quà số { $id }), gửi trước sinh nhật { $days } ngày
settings-birthday-off = • Quà sinh nhật: đang tắt
settings-winback = • Quà mời quay lại: «{ $title }» (quà số { $id }) cho khách vắng từ { $days } ngày
settings-winback-off = • Quà mời quay lại: đang tắt
settings-offer-unavailable = ⚠️ Quà số { $id } không còn hoặc đang tạm dừng: sẽ không gửi cho đến khi bạn chọn quà khác.
settings-offers-help =
    /settings birthday 3 2 — tặng quà số 3 trước sinh nhật 2 ngày (0–30), hoặc: /settings birthday off
    /settings winback 4 21 — tặng quà số 4 cho khách vắng 21 ngày (7–365), hoặc: /settings winback off
settings-error-reward-unknown = Không có quà số này. Gửi /rewards để xem số của từng quà.
settings-error-reward-paused = Quà này đang tạm dừng. Mở lại bằng /rewards resume <số> rồi chọn lại nhé.
settings-error-birthday-days = Số ngày gửi trước sinh nhật phải từ 0 đến 30.
settings-error-winback-days = Số ngày vắng phải từ 7 đến 365.

## /jobs (chủ quán)

command-jobs = Việc chạy theo lịch
jobs-title = ⏰ Việc chạy theo lịch (giờ của quán):
jobs-line = • { $job } — { $time } hằng ngày
jobs-never = {"  "}Chưa chạy lần nào.
jobs-running = {"  "}Đang chạy (ngày { $date }).
jobs-last = {"  "}Lần gần nhất: ngày { $date }, xong lúc { $time } — { $outcome }
jobs-next = {"  "}Lần tới: { $time } ngày { $date }
jobs-name-expire-points = Xóa điểm hết hạn
jobs-name-expire-vouchers = Đánh dấu voucher hết hạn
jobs-name-analyze = Phân tích khách hàng (nhóm, khả năng quay lại)
jobs-name-forget-updates = Xóa dấu tin nhắn đã xử lý (sau một ngày)
jobs-name-birthday = Quà sinh nhật
jobs-name-winback = Quà mời khách quay lại
jobs-name-points-expiring = Nhắc điểm sắp hết hạn
jobs-name-tier-nudge = Nhắc sắp lên hạng
jobs-outcome-members = { $count } khách có điểm hết hạn
jobs-outcome-vouchers = { $count } voucher hết hạn
jobs-outcome-offers = đã tặng { $count } voucher
jobs-outcome-reminders = đã nhắc { $count } khách
jobs-outcome-nudges = đã nhắc { $count } khách
jobs-outcome-no-reward = chưa chọn quà, không gửi gì (xem /settings)
jobs-outcome-reward-unavailable = ⚠️ quà số { $id } không còn hoặc đang tạm dừng, không gửi gì (xem /settings)
jobs-outcome-updates = đã xóa { $count } dấu tin nhắn
jobs-outcome-failed = ⚠️ lỗi, xem nhật ký của bot
