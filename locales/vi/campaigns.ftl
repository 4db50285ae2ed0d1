## /campaign and /campaigns: an owner sends an offer to an audience and measures it against a holdout.

command-campaign = Tạo chiến dịch ưu đãi
command-campaigns = Kết quả các chiến dịch

campaign-ask-audience = 📣 Chiến dịch mới. Gửi cho ai? (Chỉ những thành viên đã đồng ý nhận ưu đãi.)
campaign-tier-button = Hạng { $tier } ({ $count })
campaign-lapsed-button = Khách vắng N ngày…
campaign-all-button = Tất cả thành viên ({ $count })
campaign-cancel-button = ✖ Hủy
campaign-ask-lapsed = Khách vắng bao nhiêu ngày? Gửi một số từ { $least } đến { $most }, ví dụ 30.
campaign-audience-empty = Nhóm này không có thành viên nào đồng ý nhận ưu đãi. Bạn chọn nhóm khác nhé.
campaign-ask-offer = Tặng gì? Chọn một quà có sẵn, hoặc tạo voucher riêng cho chiến dịch này.
campaign-oneoff-button = ✏️ Voucher riêng…
campaign-ask-oneoff =
    Gửi ưu đãi của voucher:
    • 20% — giảm 20%
    • 30000 hoặc 30k — giảm 30.000 ₫
    • Bạc xỉu — tặng một món (gõ tên món)
campaign-oneoff-bad = Mình chưa hiểu ưu đãi này. Gửi ví dụ: 20%, 30k hoặc tên món (không có số).
campaign-title-percent = Giảm { $value }%
campaign-title-amount = Giảm { $amount }
campaign-title-item = Tặng { $item }
campaign-ask-days = Voucher dùng được bao lâu? Chọn, hoặc gửi số ngày (1–{ $most }) hay ngày cuối, ví dụ 31/12.
campaign-days-button = { $days } ngày
campaign-ask-holdout = Giữ lại bao nhiêu phần trăm khách không nhận gì để đo hiệu quả? Từ { $least }% đến { $most }%, nên chọn { $default }%.
campaign-holdout-none = Không giữ lại ai thì không thể biết chiến dịch có hiệu quả hay không.
campaign-holdout-all = Giữ lại tất cả thì không ai nhận được ưu đãi.
campaign-ask-when = Khi nào gửi? Chọn, hoặc gửi giờ (18:00) hay ngày giờ (24/12 09:30).
campaign-when-now = Gửi ngay
campaign-when-usual = Vào giờ quen của từng khách
campaign-when-at = Lúc { $time } ngày { $date }
campaign-when-bad = Giờ này không hợp lệ hoặc đã qua (tối đa 30 ngày tới).
campaign-use-buttons = Bạn chọn bằng các nút ở trên nhé.
campaign-audience-tier = Hạng { $tier }
campaign-audience-lapsed = Khách vắng từ { $days } ngày
campaign-audience-all = Tất cả thành viên
campaign-cost = Chi phí nếu tất cả dùng voucher: { $amount }
campaign-cost-approx = Chi phí nếu tất cả dùng voucher: khoảng { $amount } (theo hóa đơn trung bình)
campaign-cost-items = Chi phí nếu tất cả dùng voucher: { $count } phần «{ $item }»
campaign-preview =
    📣 Xem trước chiến dịch
    Nhóm: { $audience } — { $members } thành viên
    Gửi { $send }, giữ lại { $holdout } ({ $pct }%) để so sánh
    Ưu đãi: «{ $offer }», dùng đến hết { $until }
    Gửi: { $when } (trong khung giờ cho phép, tối đa theo giới hạn tin ưu đãi)
    { $cost }
campaign-sample-llm = ✍️ Bản nháp cho { $name }:
    { $text }
campaign-sample-template = 📝 Mẫu cho { $name } (không dùng AI):
    { $text }
campaign-decide = Duyệt để gửi, viết lại, hay hủy?
campaign-approve = ✅ Duyệt
campaign-redraft = 🔄 Viết lại
campaign-cancelled = Đã hủy chiến dịch. Không gửi gì cả.
campaign-approved = ✅ Đã duyệt chiến dịch #{ $id }: { $send } thành viên sẽ nhận, { $holdout } được giữ lại để so sánh. Xem kết quả: /campaigns { $id }
campaign-error-reward-unknown = Quà này không còn hoặc đang tạm dừng.
campaign-error-offer-expired = Ưu đãi này đã hết hạn trước khi gửi. Bạn chọn thời hạn khác nhé.
campaign-error-holdout-range = Phần giữ lại phải từ 5% đến 50%.
campaign-error-audience-empty = Nhóm này hiện không còn thành viên nào nhận được ưu đãi. Chưa gửi gì.
campaign-error-unknown = Không tìm thấy chiến dịch này.

campaigns-none = Chưa có chiến dịch nào được duyệt. Tạo mới: /campaign
campaigns-title = 📣 Các chiến dịch gần đây:
campaigns-line = #{ $id } · { $audience } · «{ $offer }» · { $date } · gửi { $members }
campaigns-report-button = Kết quả #{ $id }
campaigns-unknown = Không tìm thấy chiến dịch này. Xem danh sách: /campaigns
campaign-report =
    📊 Chiến dịch #{ $id }: { $audience }, «{ $offer }»
    Thời gian đo: { $start } – { $end }
    Đã gửi { $delivered }, không gửi được { $failed }, đang chờ { $waiting }
    Voucher: { $redeemed }/{ $vouchers } đã dùng
    Bản nháp AI: { $calls } lần gọi, { $tokens } token, { $fallbacks } lần dùng mẫu, ~{ $cost } USD
campaign-report-arm = { $arm }: { $members } khách, { $visited } có ghé, doanh thu { $revenue }/khách
campaign-arm-sent = Nhóm nhận
campaign-arm-holdout = Nhóm giữ lại
campaign-report-difference = Chênh lệch tỷ lệ ghé: { $diff } điểm % (95%: { $low } đến { $high }), p = { $p }. Doanh thu/khách: { $revenue } (95%: { $rlow } đến { $rhigh })
campaign-verdict-too-few = Kết luận: chưa đủ khách để biết chiến dịch có hiệu quả hay không.
campaign-verdict-more-visits = Kết luận: chiến dịch làm khách ghé nhiều hơn rõ rệt.
campaign-verdict-fewer-visits = Kết luận: nhóm nhận ưu đãi lại ghé ít hơn nhóm giữ lại — nên xem lại ưu đãi.
campaign-verdict-no-clear-difference = Kết luận: chưa thấy khác biệt rõ giữa hai nhóm.
campaign-report-interim = (Thời gian đo chưa kết thúc: số liệu còn thay đổi.)
segments-campaign-button = 📣 Gửi chiến dịch cho nhóm này
