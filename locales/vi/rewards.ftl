## Quà và voucher. Mỗi khóa ở đây phải có trong en/rewards.ftl.

command-rewards = Đổi điểm lấy quà
command-vouchers = Voucher của tôi
command-redeem = Dùng voucher theo mã
command-voucher = Hủy voucher (chủ quán)

voucher-gives-percent = Giảm { $value }% hóa đơn
voucher-gives-amount = Giảm { $amount }
voucher-gives-item = Tặng 1 { $item }
voucher-expires = Hạn dùng: { $date }
voucher-caption =
    🎟️ { $title } — { $gives }
    Hạn dùng đến { $date }. Đưa mã QR cho nhân viên khi thanh toán (hoặc đọc mã { $code }).

rewards-none = Hiện chưa có quà nào để đổi. Bạn quay lại sau nhé!
rewards-title = 🎁 Bạn có { $points } điểm. Chọn quà muốn đổi:
rewards-button = { $title } — { $points } điểm
rewards-later = • { $title } — { $points } điểm (còn thiếu { $missing } điểm)
rewards-confirm = Đổi { $points } điểm lấy «{ $title }» ({ $gives })? Voucher dùng được trong { $days } ngày.
rewards-yes = ✅ Đổi quà
rewards-no = ✖ Thôi
rewards-cancelled = Đã hủy, điểm của bạn vẫn giữ nguyên.
rewards-done = ✅ Đổi quà thành công! Số điểm còn lại: { $points } điểm.
vouchers-none = Bạn chưa có voucher nào còn hạn. Gửi /rewards để đổi điểm lấy quà.
vouchers-title = 🎟️ Voucher còn hạn của bạn:
vouchers-line = • { $title } — hạn dùng { $date }
vouchers-show = Xem thẻ: { $title }
voucher-yours = 🎟️ Đây là voucher của bạn: { $title }, hạn dùng { $date }, mã { $code }. Đưa cho nhân viên khi thanh toán nhé.
voucher-not-found = Không tìm thấy voucher này.

voucher-staff-view =
    🎟️ { $title } — { $gives }
    Của: { $name } · Hạn dùng: { $date }{ $minimum }
voucher-min-spend = {" "}· Hóa đơn tối thiểu: { $amount }
voucher-redeem-button = ✅ Dùng voucher
voucher-redeemed = ✅ Đã dùng voucher «{ $title }» của { $name }.
voucher-notice-used = 🎟️ Voucher «{ $title }» của bạn vừa được dùng tại { $shop }. Chúc bạn ngon miệng!
alert-code-guessing = ⚠️ { $cashier } đã nhập sai mã voucher quá nhiều lần; lệnh /redeem của người này tạm khóa 10 phút.

voucher-error-not-enough-points = Bạn chưa đủ điểm để đổi quà này.
voucher-error-reward-out-of-stock = Quà này vừa hết. Bạn chọn quà khác nhé.
voucher-error-reward-tier-only = Quà này dành cho hạng cao hơn.
voucher-error-reward-unknown = Quà này không còn nữa.
voucher-error-reward-cost = Số điểm phải lớn hơn 0.
voucher-error-reward-days = Thời hạn phải từ 1 đến 366 ngày.
voucher-error-reward-kind = Loại quà phải là percent, amount hoặc item.
voucher-error-reward-value = Giá trị chưa hợp lệ (phần trăm 1–100, số tiền từ 1.000 ₫, số lượng không âm).
voucher-error-reward-title = Vui lòng ghi tên quà.
voucher-error-reward-field = Chỉ sửa được: cost, days, minspend, stock, tier, title.
voucher-error-reward-tier = Không có hạng này. Dùng: member, silver, gold, platinum hoặc none.
voucher-error-already-redeemed = ⛔ Voucher này đã được dùng lúc { $time } ngày { $date } tại { $store }.
voucher-error-expired = ⛔ Voucher này đã hết hạn ngày { $date }.
voucher-error-voided = ⛔ Voucher này đã bị hủy.
voucher-error-not-live = Voucher này không còn dùng được.
voucher-error-locked = Bạn nhập sai mã quá nhiều lần. Vui lòng đợi 10 phút hoặc quét mã QR.

rewards-owner-title = 🎁 Danh mục quà:
rewards-owner-line = { $id }. { $title } — { $points } điểm — { $days } ngày — kho: { $stock } — { $state }
rewards-active = đang mở
rewards-paused = tạm dừng
rewards-stock-unlimited = không giới hạn
rewards-saved = ✅ Đã lưu «{ $title }».
rewards-owner-help =
    Thêm: /rewards add <percent|amount|item> <giá trị> <điểm> <số ngày> <tên>
    ví dụ: /rewards add percent 20 500 30 Giảm 20% hóa đơn · /rewards add item 0 400 14 Bạc xỉu
    Sửa: /rewards set <số> <cost|days|minspend|stock|tier|title> <giá trị> · Tạm dừng: /rewards pause <số> · Mở lại: /rewards resume <số>
voucher-void-help = Cú pháp: /voucher void <mã voucher>
voucher-voided = Đã hủy voucher «{ $title }»; hoàn { $points } điểm cho khách.
voucher-notice-voided = Voucher «{ $title }» của bạn đã được cửa hàng hủy; { $points } điểm đã được hoàn lại.
