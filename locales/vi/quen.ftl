## Quen — tiếng Việt (ngôn ngữ chính). Mỗi khóa ở đây phải có trong en/quen.ftl.

## Tham gia

join-welcome =
    Chào mừng bạn đến với chương trình khách quen của { $shop }! ☕
    Bạn muốn dùng ngôn ngữ nào? / Which language do you prefer?
join-summary =
    ⭐ Chương trình khách quen của { $shop }
    • Mỗi lần mua hàng, bạn xuất trình thẻ thành viên (mã QR) để tích điểm.
    • Điểm dùng để đổi quà và ưu đãi; điểm hết hạn sau 12 tháng kể từ ngày tích.
    • Tích đủ điểm trong 12 tháng để lên hạng Bạc, Vàng, Bạch kim và nhận thêm điểm mỗi lần mua.

    Để làm thẻ, chúng tôi lưu tên hiển thị trong ứng dụng chat, số điện thoại và ngày sinh (nếu bạn cho) cùng lịch sử tích điểm, chỉ để vận hành chương trình.
    Nếu bạn đồng ý nhận ưu đãi, chúng tôi gửi tin khuyến mãi qua chat này: tối đa 2 tin mỗi tuần, chỉ từ 8:00 đến 21:00. Bạn có thể ngừng nhận bất cứ lúc nào.
join-consent-offers = Tham gia và nhận ưu đãi
join-consent-basic = Chỉ tham gia
join-decline = Không, cảm ơn
join-declined = Không sao cả! Khi nào muốn tham gia, bạn chỉ cần gửi /start.
join-use-buttons = Bạn vui lòng chọn bằng các nút bên dưới nhé.
join-in-progress = Bạn đang đăng ký dở, mình tiếp tục nhé.
join-ask-phone =
    Chia sẻ số điện thoại giúp nhân viên tìm thẻ của bạn khi bạn quên điện thoại.
    Bấm nút bên dưới để chia sẻ số của chính bạn, hoặc bấm «Bỏ qua».
button-share-phone = 📱 Chia sẻ số điện thoại
button-skip = Bỏ qua
join-phone-use-button = Để bảo đảm đúng số của bạn, vui lòng dùng nút «📱 Chia sẻ số điện thoại» (hoặc «Bỏ qua»).
join-phone-not-yours = Đây không phải số điện thoại của bạn. Vui lòng chỉ chia sẻ số của chính mình.
join-phone-invalid = Số điện thoại này không hợp lệ. Bạn thử lại hoặc bấm «Bỏ qua» nhé.
join-phone-saved = Đã lưu số điện thoại. ✅
join-phone-taken = Số điện thoại này đã gắn với một thẻ thành viên khác, nên mình chưa lưu. Nếu có nhầm lẫn, bạn hỏi nhân viên quầy nhé.
join-ask-birthday =
    Sinh nhật của bạn là ngày nào? Gửi theo dạng ngày/tháng (ví dụ 22/11) hoặc ngày/tháng/năm (22/11/1995) để nhận quà sinh nhật 🎂
    Hoặc bấm «Bỏ qua».
join-birthday-bad-format = Mình chưa hiểu ngày này. Vui lòng gửi theo dạng ngày/tháng, ví dụ 22/11 hoặc 22/11/1995.
join-birthday-bad-date = Ngày này không có thật hoặc nằm ở tương lai. Bạn kiểm tra lại giúp mình nhé.
join-done =
    🎉 Chào mừng bạn trở thành khách quen của { $shop }!
    Đây là thẻ thành viên của bạn: đưa mã QR cho nhân viên mỗi lần mua để tích điểm.

## Thẻ và điểm

card-tier = Hạng: { $tier }
card-caption = 🎫 Thẻ thành viên — hạng { $tier }. Đưa mã QR này cho nhân viên khi thanh toán.
not-a-member = Bạn chưa là thành viên. Gửi /start để tham gia nhé!
points-balance = ⭐ Điểm hiện có: { $points } điểm
points-tier = 🏅 Hạng: { $tier }
points-to-next = Còn { $points } điểm nữa để lên hạng { $tier }.
points-top-tier = Bạn đang ở hạng cao nhất. Cảm ơn bạn! 💛
points-expiring = ⏳ { $points } điểm sẽ hết hạn vào { $date }.
points-none-expiring = Không có điểm nào hết hạn trong 30 ngày tới.

## Menu, ngôn ngữ, trợ giúp

menu-card = 🎫 Thẻ thành viên
menu-points = ⭐ Điểm của tôi
menu-language = 🌐 Ngôn ngữ
menu-help = ❓ Trợ giúp
menu-greeting = Chào { $name }! Bạn cần gì hôm nay? Chọn trong menu bên dưới nhé.
language-ask = Bạn muốn dùng ngôn ngữ nào? / Which language do you prefer?
language-set = Đã chuyển sang tiếng Việt.
language-set-guest = Đã chuyển sang tiếng Việt. Gửi /start để tham gia chương trình.
help-guest =
    Chương trình khách quen của { $shop }: tích điểm mỗi lần mua, đổi quà, nhận ưu đãi sinh nhật.
    /start — tham gia
    /language — đổi ngôn ngữ
    /help — trợ giúp
help-member =
    /card — thẻ thành viên (mã QR để tích điểm)
    /points — điểm, hạng và điểm sắp hết hạn
    /rewards — đổi điểm lấy quà · /vouchers — voucher của bạn
    /invite — mời bạn bè, cả hai cùng nhận điểm
    /history — lịch sử điểm
    /mydata — nhận tệp chứa mọi dữ liệu về bạn
    /stop — ngừng nhận tin ưu đãi (/offers để bật lại)
    /delete — xóa dữ liệu cá nhân của bạn
    /language — đổi ngôn ngữ
    /help — trợ giúp
    Bạn cũng có thể dùng các nút menu bên dưới.
unknown-command = Mình không biết lệnh này. Gửi /help để xem những gì mình làm được.
not-understood = Mình chưa hiểu tin nhắn này. Bạn dùng menu bên dưới hoặc gửi /help nhé.
not-understood-guest = Mình chưa hiểu tin nhắn này. Gửi /start để tham gia hoặc /help để được trợ giúp.
contact-unexpected = Cảm ơn bạn, nhưng lúc này mình không cần số điện thoại.
button-expired = Nút này đã hết hiệu lực. Bạn gửi lại lệnh (ví dụ /start) nhé.

## Menu lệnh của Telegram

command-start = Tham gia hoặc mở menu
command-card = Thẻ thành viên
command-points = Điểm và hạng
command-invite = Mời bạn bè, cả hai cùng nhận điểm
command-history = Lịch sử điểm
command-mydata = Dữ liệu của tôi
command-stop = Ngừng nhận tin ưu đãi
command-delete = Xóa dữ liệu cá nhân
offers-hint = Muốn nhận tin ưu đãi? Gửi /offers nhé.
command-language = Đổi ngôn ngữ
command-help = Trợ giúp

## Dành cho chủ quán (cửa sổ dòng lệnh)

setup-no-token =
    Chưa có QUEN_TELEGRAM_TOKEN nên bot chưa kết nối Telegram (máy chủ HTTP và lịch chạy vẫn hoạt động).
    Để lấy token: mở Telegram, chat với @BotFather, gửi /newbot, đặt tên, rồi chép token vào biến QUEN_TELEGRAM_TOKEN và chạy lại `quen run`.
    Muốn thử ngay không cần Telegram: chạy `quen chat`.
console-intro = Bạn đang chat với bot với vai trò { $role }. Gõ tin nhắn hoặc lệnh (/start). Gõ số để bấm nút, /contact <số điện thoại> để chia sẻ số, /quit để thoát.
console-card-saved = [thẻ đã lưu tại { $path }]
error-generic = Xin lỗi, mình gặp trục trặc khi xử lý tin nhắn này. Bạn thử lại sau ít phút nhé.

## Nhân viên và cửa hàng

role-owner = chủ quán
role-customer = khách hàng
role-manager = quản lý
role-cashier = thu ngân
command-find = Tìm thành viên theo số điện thoại
command-undo = Hủy giao dịch vừa ghi
command-staff = Nhân viên: mời, xem, xóa
command-stores = Cửa hàng
help-staff =
    Tại quầy: quét mã QR trên thẻ của khách bằng camera điện thoại, rồi nhập số tiền hóa đơn.
    /find 0901234567 — tìm thành viên theo số điện thoại
    Voucher: quét mã QR trên voucher của khách, hoặc /redeem <mã 10 ký tự>
    /undo — hủy giao dịch bạn vừa ghi (trong vài phút)
staff-title = 👥 Nhân viên đang hoạt động:
staff-all-stores = mọi cửa hàng
staff-line = • { $name } — { $role } — { $store }
staff-remove-button = ✖ Xóa { $name }
staff-invite-button = ➕ Mời { $role } ({ $store })
staff-invite-link =
    Gửi đường link này cho { $role } mới (chỉ dùng được một lần, hết hạn ngày { $date }):
    { $link }
staff-removed = Đã xóa quyền nhân viên của { $name }. Quyền truy cập chấm dứt ngay.
staff-you-were-removed = Quyền nhân viên của bạn tại { $shop } đã kết thúc. Bạn vẫn dùng thẻ thành viên như bình thường.
staff-welcome = Chào mừng bạn vào đội ngũ { $shop } với vai trò { $role }! Gửi /help để xem cách ghi điểm tại quầy.
staff-error-not-allowed = Bạn không có quyền làm việc này.
staff-error-unknown-store = Không tìm thấy cửa hàng này.
staff-error-invite-invalid = Đường link mời không hợp lệ. Bạn xin chủ quán link mới nhé.
staff-error-invite-used = Đường link mời này đã được dùng rồi. Bạn xin chủ quán link mới nhé.
staff-error-invite-expired = Đường link mời này đã hết hạn. Bạn xin chủ quán link mới nhé.
staff-error-already-owner = Bạn là chủ quán rồi, không cần dùng link mời.
staff-error-unknown-staff = Người này không còn là nhân viên.
staff-error-store-name = Vui lòng ghi tên cửa hàng, ví dụ: /stores add Chi nhánh Quận 1
stores-title = 🏪 Cửa hàng:
stores-line = { $id }. { $name }
stores-none = Chưa có cửa hàng nào. Thêm bằng: /stores add Chi nhánh Quận 1
stores-added = Đã thêm cửa hàng «{ $name }».

## Tại quầy

till-member =
    👤 { $name } — hạng { $tier } — { $points } điểm
    Nhập số tiền hóa đơn (ví dụ 85000, 85k hoặc 85.000):
till-card-unknown = Không nhận ra thẻ này (thẻ cũ hoặc không hợp lệ). Nhờ khách mở lại thẻ bằng /card rồi quét lại.
till-find-format = Vui lòng ghi số điện thoại, ví dụ: /find 0901234567
till-find-none = Không có thành viên nào dùng số điện thoại này.
till-error-own-account = Bạn không thể tự tích điểm cho thẻ của chính mình. Nhờ đồng nghiệp ghi giúp nhé.
till-error-amount-format = Mình chưa hiểu số tiền này. Nhập ví dụ 85000, 85k hoặc 85.000.
till-error-amount-positive = Số tiền phải lớn hơn 0.
till-error-amount-too-big = Số tiền vượt mức tối đa cho một hóa đơn ({ $max }). Kiểm tra lại hoặc hỏi chủ quán.
till-error-member-gone = Thành viên này không còn trong chương trình.
till-error-nothing-to-undo = Không có giao dịch nào của bạn trong { $minutes } phút vừa qua để hủy.
till-confirm = Ghi { $amount } cho { $name }: +{ $points } điểm. Xác nhận?
till-confirm-button = ✅ Xác nhận
till-cancel-button = ✖ Hủy
till-cancelled = Đã hủy, không ghi gì cả.
till-already-recorded = Giao dịch này đã được ghi rồi, không ghi lần nữa.
till-recorded = ✅ Đã ghi { $amount } cho { $name }: +{ $points } điểm. Số dư mới: { $balance } điểm.
till-undone = ↩️ Đã hủy hóa đơn { $amount } của { $name } và trừ lại { $points } điểm.
till-undone-shortfall = Khách đã dùng { $points } điểm trong số đó, nên chỉ trừ phần còn lại (số dư không âm).
notice-earned = ⭐ Bạn vừa nhận +{ $points } điểm cho hóa đơn { $amount } tại { $shop }. Số dư: { $balance } điểm.
notice-tier-up = 🎉 Chúc mừng! Bạn đã lên hạng { $tier }.
notice-undone = ↩️ Hóa đơn { $amount } vừa được nhân viên hủy do nhập nhầm: trừ { $points } điểm. Số dư: { $balance } điểm.
alert-many-purchases = ⚠️ { $name } đã có { $count } hóa đơn hôm nay (lần gần nhất do { $cashier } ghi). Bạn kiểm tra giúp nhé.

## Giới thiệu bạn bè

invite-link =
    💌 Gửi đường link này cho bạn bè. Khi bạn ấy tham gia và mua lần đầu, bạn nhận { $points } điểm và bạn ấy nhận { $friend_points } điểm:
    { $link }
invite-already-member = Bạn đã là thành viên rồi, nên link giới thiệu này không áp dụng cho bạn.
notice-referral-friend = 🎁 Quà chào mừng từ lời giới thiệu: +{ $points } điểm.
notice-referral-referrer = 🎁 { $name }, người bạn bạn giới thiệu, vừa mua lần đầu: bạn nhận +{ $points } điểm. Cảm ơn bạn!

## Quy tắc chương trình (chủ quán)

command-settings = Quy tắc: tỷ lệ tích điểm, hạn điểm, hạng
command-adjust = Điều chỉnh điểm thủ công
settings-summary =
    ⚙️ Quy tắc hiện tại:
    • Tích điểm: 1 điểm cho mỗi { $earn } (nhân hệ số hạng)
    • Điểm hết hạn sau { $months } tháng kể từ ngày tích
    • Hóa đơn tối đa: { $maxbill }
    • Cảnh báo khi một khách có hơn { $alert } hóa đơn/ngày
    • Giới thiệu bạn bè: người giới thiệu +{ $referrer }, bạn mới +{ $friend } điểm
settings-tier = • Hạng { $tier } ({ $code }): từ { $threshold } điểm/12 tháng, hệ số { $multiplier }%
settings-help =
    Đổi quy tắc (áp dụng từ bây giờ):
    /settings earn 1000 — số đồng cho 1 điểm
    /settings expiry 12 — số tháng trước khi điểm hết hạn
    /settings maxbill 5000000 — hóa đơn tối đa
    /settings alert 3 — ngưỡng cảnh báo số hóa đơn/ngày
    /settings referral 200 200 — điểm giới thiệu (người giới thiệu, bạn mới)
    /settings tier gold 10000 125 — ngưỡng và hệ số % của một hạng
settings-changed = ✅ Đã lưu. Quy tắc mới áp dụng từ bây giờ.
settings-error-unknown = Không có quy tắc này. Gửi /settings để xem danh sách.
settings-error-format = Giá trị chưa đúng. Gửi /settings để xem ví dụ.
settings-error-expiry-range = Thời hạn điểm phải từ 1 đến 60 tháng.
settings-error-tier-unknown = Không có hạng này. Dùng mã: member, silver, gold, platinum.
settings-error-multiplier-range = Hệ số phải từ 100% đến 500%.
settings-error-tier-lowest = Hạng thấp nhất luôn bắt đầu từ 0 điểm.
settings-error-tier-clash = Đã có hạng khác dùng ngưỡng điểm này.
adjust-format = Cú pháp: /adjust <số điện thoại> <+/-điểm> <lý do>, ví dụ: /adjust 0901234567 +50 quên tích điểm hôm qua
adjust-too-much = Không thể trừ quá số điểm hiện có ({ $balance } điểm). Không có gì thay đổi.
adjust-done = ✅ Đã điều chỉnh { $points } điểm cho { $name }. Số dư mới: { $balance } điểm.

## Thực đơn (món để thu ngân đánh dấu)

command-menu = Danh sách món
menu-title = 🍵 Danh sách món (thu ngân đánh dấu khi ghi hóa đơn):
menu-empty = Chưa có món nào. Thêm bằng: /menu add Cà phê sữa đá
menu-help = Thêm: /menu add <tên món> · Bỏ: /menu remove <số>
menu-added = Đã thêm «{ $name }».
menu-removed = Đã bỏ «{ $name }» (các hóa đơn cũ giữ nguyên).
menu-error-name = Vui lòng ghi tên món, ví dụ: /menu add Bạc xỉu
menu-error-full = Danh sách đã đủ { $max } món. Bỏ bớt một món trước nhé.
menu-error-unknown = Không có món số này trong danh sách.

## Một người, hai ứng dụng: nối tài khoản chat mới vào thẻ thành viên đã có.

join-link-ask =
    Số điện thoại này đã là của một thành viên tham gia qua ứng dụng khác. Đó có phải là bạn không?
    Nếu đúng, hai ứng dụng sẽ dùng chung một thẻ: chung điểm, hạng và voucher.
join-link-yes = Đúng, là tôi: dùng chung thẻ
join-link-no = Không phải tôi
join-linked = ✅ Đã nối: từ giờ bạn dùng chung một thẻ thành viên trên cả hai ứng dụng.
notice-linked = 🔗 Thẻ thành viên của bạn vừa được nối với một tài khoản { $app ->
        [zalo] Zalo
        [telegram] Telegram
       *[other] khác
    } có cùng số điện thoại. Nếu không phải bạn, hãy báo nhân viên quầy ngay nhé.
