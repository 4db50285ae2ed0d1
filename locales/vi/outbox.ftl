## Tin bot tự gửi: nhãn quảng cáo (Nghị định 91/2020) và báo cáo hàng đợi cho chủ quán.

ad-label = [QC] { $shop }
ad-footer = Không muốn nhận tin ưu đãi nữa? Gửi /stop.

outbox-title = 📬 Hàng đợi tin nhắn
outbox-counts = Đang chờ: { $queued } · Đang gửi: { $sending } · Đã gửi: { $sent } · Lỗi: { $failed } · Không rõ: { $unknown } · Bỏ qua: { $skipped }
outbox-kind = • { $kind }: chờ { $queued }, đã gửi { $sent }, lỗi { $failed }, không rõ { $unknown }, bỏ qua { $skipped }
outbox-next = Tin kế tiếp được gửi lúc { $time } ngày { $date }.
outbox-problems = Gần đây không gửi được:
outbox-problem = • #{ $id } { $kind } ({ $status }): { $reason }
outbox-held = ⚠️ Tin ưu đãi đang bị giữ lại: { $problem }
outbox-empty = Chưa có tin nào trong hàng đợi.

command-outbox = Hàng đợi tin nhắn: đã gửi, lỗi, lý do
