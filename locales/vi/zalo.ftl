## Kênh Zalo OA: báo cho chủ quán khi mất quyền gửi tin.

zalo-reauth-alert =
    ⚠️ Quen không gia hạn được quyền truy cập Zalo OA ({ $reason }), nên tạm thời không gửi được tin trên Zalo.
    Để cấp quyền lại: chạy `quen zalo authorize` trên máy chủ, mở đường link in ra bằng tài khoản quản trị OA, rồi dán mã nhận được.
