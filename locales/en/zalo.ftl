## The Zalo OA channel: telling owners when access to the OA is lost.

zalo-reauth-alert =
    ⚠️ Quen could not renew its access to the Zalo OA ({ $reason }), so messages on Zalo are not being sent.
    To authorise again: run `quen zalo authorize` on the server, open the link it prints with the OA admin account, and paste the code you get.
