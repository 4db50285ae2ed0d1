## Quyền của khách đối với dữ liệu cá nhân (Luật 91/2025): /history, /stop, /offers, /mydata, /delete.
## Mỗi khóa ở đây phải có trong en/privacy.ftl.

## Lịch sử điểm. Trong history-line-*, $name là tên loại giao dịch (history-kind-*).

history-title = 🧾 Lịch sử điểm gần đây:
history-empty = Bạn chưa có giao dịch điểm nào.
history-line-in = { $date }  +{ $points } điểm · { $name }
history-line-out = { $date }  −{ $points } điểm · { $name }
history-kind-earn = Tích điểm
history-kind-spend = Đổi điểm
history-kind-expire = Điểm hết hạn
history-kind-earn-reversal = Hóa đơn bị hủy
history-kind-adjust = Cửa hàng điều chỉnh
history-kind-referral = Thưởng giới thiệu bạn bè
history-kind-gift = Điểm tặng
history-kind-other = Giao dịch khác

## Tin ưu đãi

stop-done =
    Đã dừng gửi tin ưu đãi cho bạn.
    Bạn vẫn nhận tin báo điểm mỗi lần mua hàng. Khi muốn nhận lại ưu đãi, bạn gửi /offers nhé.
stop-already = Bạn đã tắt tin ưu đãi rồi. Khi muốn nhận lại, bạn gửi /offers nhé.
offers-ask =
    Bạn có muốn nhận tin ưu đãi của { $shop } qua chat này không?
    Tối đa 2 tin mỗi tuần, chỉ từ 8:00 đến 21:00. Bạn có thể dừng bất cứ lúc nào bằng /stop.
offers-yes = Có, gửi ưu đãi cho tôi
offers-no = Không, cảm ơn
offers-done = 🎉 Đã bật nhận tin ưu đãi. Khi muốn dừng, bạn gửi /stop nhé.
offers-declined = Vâng, mình sẽ không gửi tin ưu đãi cho bạn.
offers-already = Bạn đang nhận tin ưu đãi rồi. Khi muốn dừng, bạn gửi /stop nhé.

## Dữ liệu của tôi

mydata-caption = 📄 Đây là toàn bộ dữ liệu { $shop } đang lưu về bạn (tệp JSON).

## Xóa dữ liệu

delete-ask =
    Bạn muốn xóa dữ liệu cá nhân của mình?
    • Tên, số điện thoại, ngày sinh và thông tin tài khoản chat của bạn sẽ bị xóa khỏi chương trình, thẻ thành viên hết hiệu lực.
    • { $points } điểm hiện có sẽ mất và không thể khôi phục.
    • Lịch sử điểm được giữ ẩn danh để cửa hàng đối soát sổ sách.
    Muốn giữ một bản dữ liệu, bạn gửi /mydata trước nhé.
delete-yes = Xóa dữ liệu của tôi
delete-no = Không xóa
delete-cancelled = Đã hủy. Dữ liệu của bạn vẫn được giữ nguyên.
delete-done = Đã xóa dữ liệu cá nhân của bạn. Cảm ơn bạn đã là khách quen của { $shop }! Khi muốn quay lại, bạn gửi /start nhé.
