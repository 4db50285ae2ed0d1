## Tin ưu đãi viết sẵn (loyalty/copywriter.py): dùng khi chưa cấu hình LLM, hoặc khi bản nháp của
## LLM sai một dữ kiện. Mỗi tin ghép các câu: lời mở theo loại tin, ưu đãi theo loại quà, món quen
## (nếu có), hạn dùng. { $name } nhận chỗ trống "{name}", tên khách được điền khi gửi.
## Chỉ dùng số do code đưa vào: bộ kiểm tra dữ kiện từ chối mọi con số khác.

copy-open-campaign = 🎉 Chào { $name }! { $shop } có ưu đãi dành riêng cho bạn.
copy-open-birthday = 🎂 Chúc mừng sinh nhật { $name }! { $shop } gửi bạn một món quà nhỏ.
copy-open-winback = ☕ { $name } ơi, lâu rồi không gặp bạn! { $shop } nhớ bạn lắm.
copy-offer-percent = Voucher «{ $title }» giảm { $value }% hóa đơn cho bạn.
copy-offer-amount = Voucher «{ $title }» giảm { $amount } cho hóa đơn của bạn.
copy-offer-item = Voucher «{ $title }» tặng bạn 1 { $item }.
copy-favourite = Ghé quán thưởng thức món { $favourites } quen thuộc nhé!
copy-until = Voucher dùng được đến hết ngày { $date }.
