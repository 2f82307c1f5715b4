-- helpcentre/demo.lua: the demo shop's help centre (`destek demo` runs the helpcentre.demo service after
-- ticketing's demo): 6 topics and 30 articles about the shop's policies, in Turkish and English (two in Turkish only,
-- as a shop's newest articles often are), published through the module's own store so that the search index and
-- the versions are what the API makes.
local destek = require "destek"
local store = require "store"

local demo = {}

local CATEGORIES = {
  { "kargo", "Kargo ve teslimat", "Siparişiniz ne zaman yola çıkar, kaç günde gelir, kargo ücreti.",
    "Shipping and delivery", "When your order ships, how long it takes, what shipping costs." },
  { "iade", "İade", "14 gün içinde koşulsuz iade, iade kodu ve para iadesi.",
    "Returns", "Return within 14 days, your return code and your refund." },
  { "degisim", "Değişim", "Beden, renk ya da ürün değişimi.", "Exchanges", "Exchanging a size, a colour or a product." },
  { "fatura", "Fatura", "E-arşiv fatura, kurumsal fatura ve fatura düzeltme.",
    "Invoices", "E-archive invoices, company invoices and corrections." },
  { "odeme", "Ödeme", "Kart, taksit, havale ve kapıda ödeme.", "Payment", "Cards, instalments, bank transfer and cash on delivery." },
  { "hesap", "Hesap ve sipariş", "Üyelik, şifre, sipariş takibi ve iptal.",
    "Account and orders", "Your account, password, order tracking and cancelling." },
}

-- {slug, category, tr title, tr body, en title | nil, en body}
local ARTICLES = {
  { "kargo-ucreti", "kargo", "Kargo ücreti ne kadar?",
    "**250 TL ve üzeri** siparişlerde kargo ücretsizdir. Daha küçük siparişlerde kargo ücreti **39,90 TL**'dir ve ödeme adımında gösterilir.\n\nKargo bedava göründüğü hâlde ücret alındıysa [bize yazın](/contact): farkı aynı gün iade ederiz.",
    "How much is shipping?",
    "Shipping is **free on orders of 250 TL or more**. Smaller orders pay **39.90 TL**, shown at checkout.\n\nIf you were charged although shipping was free, [write to us](/contact): we refund the difference the same day." },
  { "kac-gunde-gelir", "kargo", "Siparişim kaç günde gelir?",
    "Siparişler hafta içi 14:00'e kadar verilirse **aynı gün** kargoya verilir. Teslimat süresi bölgeye göre değişir:\n\n- İstanbul, Ankara, İzmir: **1 iş günü**\n- Diğer iller: **1–3 iş günü**\n- Doğu ve Güneydoğu Anadolu: **2–4 iş günü**",
    "How many days until my order arrives?",
    "Orders placed by 14:00 on a weekday **ship the same day**. Delivery takes 1 working day to Istanbul, Ankara and İzmir, 1–3 working days elsewhere and 2–4 to Eastern and South-eastern Anatolia." },
  { "kargo-takip", "kargo", "Kargomu nasıl takip ederim?",
    "Siparişiniz yola çıkınca size **kargo takip numarası** içeren bir e-posta ve SMS gönderiyoruz. Numarayla kargo firmasının sitesinden ya da [sipariş takip sayfamızdan](/track) durumunu görebilirsiniz.",
    "How do I track my parcel?",
    "When your order ships we send you an e-mail and a text message with its **tracking number**. Use it on the carrier's site or on our [order tracking page](/track)." },
  { "kargo-gecikti", "kargo", "Siparişim neden hâlâ kargoya verilmedi?",
    "Ödemesi onaylanmış siparişler aynı gün ya da ertesi iş günü çıkar. Gecikmenin en sık nedenleri: havale ödemesinin henüz görünmemesi, ön siparişli bir ürün ya da kampanya günlerindeki yoğunluk. 2 iş gününden uzun sürdüyse sipariş numaranızla bize yazın.",
    "Why has my order not shipped yet?",
    "Paid orders ship the same or the next working day. The usual reasons for a delay: a bank transfer that has not arrived yet, a pre-ordered item, or campaign-day volumes. If it has been more than 2 working days, write to us with your order number." },
  { "hasarli-urun", "kargo", "Ürün hasarlı geldi, ne yapmalıyım?",
    "Paket hasarlıysa kargo görevlisine **hasar tespit tutanağı** tutturun ve paketi teslim almayın. Hasarı paketi açınca fark ettiyseniz 3 gün içinde fotoğraflarıyla bize yazın: yenisini ücretsiz gönderir ya da paranızı iade ederiz.",
    "My item arrived damaged: what should I do?",
    "If the parcel is damaged, ask the courier to write a **damage report** and refuse the parcel. If you notice the damage after opening it, write to us with photos within 3 days: we send a new one free of charge or refund you." },
  { "iade-kosullari", "iade", "İade koşulları nelerdir?",
    "Ürünü teslim aldığınız günden itibaren **14 gün** içinde sebep göstermeden iade edebilirsiniz (Mesafeli Sözleşmeler Yönetmeliği, cayma hakkı). Ürün kullanılmamış ve etiketleri üzerinde olmalıdır. İç giyim ve kişisel bakım ürünleri hijyen nedeniyle ambalajı açıldıysa iade edilemez.",
    "What is the return policy?",
    "You may return an item for any reason within **14 days** of delivery (the right of withdrawal under Turkish distance-selling rules). It must be unused, with its tags. Underwear and personal-care items cannot be returned once their packaging is opened." },
  { "iade-nasil-yapilir", "iade", "İade nasıl yapılır?",
    "1. [İade sayfamızdan](/returns) sipariş numaranızı ve e-postanızı girin.\n2. İade etmek istediğiniz ürünü ve sebebini seçin.\n3. Size verilen **iade kodu** ile paketi anlaşmalı kargo firmasına ücretsiz teslim edin.\n\nİade paketimize ulaşınca 2 iş günü içinde inceleyip sonucu e-postayla bildiririz.",
    "How do I return an item?",
    "1. Enter your order number and e-mail on our [returns page](/returns).\n2. Pick the item and the reason.\n3. Hand the parcel to our carrier with the **return code** you get: it costs you nothing.\n\nWe check the return within 2 working days of receiving it and tell you by e-mail." },
  { "iade-ucreti", "iade", "İade kargo ücreti ödüyor muyum?",
    "Anlaşmalı kargo firmamızla ve iade koduyla gönderdiğiniz iadeler **ücretsizdir**. Başka bir firmayla gönderirseniz kargo ücreti size ait olur.",
    "Do I pay for return shipping?",
    "Returns sent with our carrier and your return code are **free**. If you use another carrier, you pay its fee." },
  { "para-iadesi-ne-zaman", "iade", "Param ne zaman iade edilir?",
    "İadeniz onaylandığı gün ödemeyi iade ederiz. Paranın hesabınıza geçmesi bankanıza göre **2–10 iş günü** sürebilir; taksitli ödemelerde iade, kartınıza taksitler hâlinde yansır.",
    "When will I get my money back?",
    "We refund on the day your return is approved. Your bank may take **2–10 working days** to show it; an instalment payment is refunded to the card in instalments." },
  { "iade-reddedildi", "iade", "İadem neden reddedildi?",
    "Ürün kullanılmış, etiketi çıkarılmış ya da 14 günlük süre geçmişse iadeyi kabul edemiyoruz. Bu durumda ürünü ücretsiz olarak size geri gönderiyoruz. Bir yanlışlık olduğunu düşünüyorsanız iade numaranızla bize yazın.",
    "Why was my return refused?",
    "We cannot accept an item that was used, has its tags removed, or came back after the 14 days. We then send it back to you free of charge. If you think we are wrong, write to us with your return number." },
  { "degisim-nasil", "degisim", "Ürünü nasıl değiştirebilirim?",
    "Değişim de iade sayfasından başlar: [iade sayfamızda](/returns) sebep olarak **değişim** seçin ve istediğiniz bedeni ya da rengi yazın. Ürün bize ulaşınca yenisini aynı gün kargoya veririz.",
    "How do I exchange an item?",
    "An exchange starts on the returns page too: on our [returns page](/returns) choose **exchange** as the reason and say which size or colour you want. We ship the new one the day yours reaches us." },
  { "beden-degisimi", "degisim", "Beden değişimi ücretli mi?",
    "İlk beden değişimi **ücretsizdir**; hem gönderim hem yeni ürünün kargosu bizden. İkinci değişimde yalnızca yeni ürünün kargo ücreti alınır.",
    "Is a size exchange free?",
    "Your first size exchange is **free**: both ways are on us. For a second exchange we charge only the shipping of the new item." },
  { "degisimde-stok-yok", "degisim", "İstediğim beden stokta yoksa?",
    "İstediğiniz beden ya da renk stokta yoksa size başka bir seçenek sunarız ya da ürünün bedelini iade ederiz. Stok gelince haber vermemizi de isteyebilirsiniz.",
    "What if the size I want is out of stock?",
    "We offer you another option or refund the item. You can also ask us to tell you when it is back in stock." },
  { "farkli-urunle-degisim", "degisim", "Farklı bir ürünle değiştirebilir miyim?",
    "Evet. Yeni ürün daha pahalıysa farkı ödeme bağlantısıyla, daha ucuzsa farkı kartınıza iade ederiz.",
    "Can I exchange for a different product?",
    "Yes. If the new product costs more, you pay the difference through a payment link; if it costs less, we refund the difference to your card." },
  { "hediye-degisim", "degisim", "Hediye aldığım ürünü değiştirebilir miyim?",
    "Evet, faturadaki sipariş numarasıyla hediye ürünleri de 14 gün içinde değiştirebilirsiniz. Fiyat bilgisi paketin içinde yer almaz.",
    nil, nil },
  { "fatura-nerede", "fatura", "Faturam nerede?",
    "Tüm siparişler için **e-arşiv fatura** düzenliyoruz. Fatura, sipariş kargoya verildiğinde e-posta adresinize gönderilir; paketin içinde kâğıt fatura bulunmaz.",
    "Where is my invoice?",
    "We issue an **e-archive invoice** for every order. It is e-mailed to you when your order ships; there is no paper invoice in the parcel." },
  { "kurumsal-fatura", "fatura", "Şirketim adına fatura alabilir miyim?",
    "Evet. Ödeme adımında **kurumsal fatura** seçip şirket unvanını, vergi dairesini ve vergi numarasını girin. Sipariş verildikten sonra değişiklik için 24 saat içinde bize yazın.",
    "Can I get an invoice for my company?",
    "Yes. Choose **company invoice** at checkout and enter the company's name, tax office and tax number. To change it after ordering, write to us within 24 hours." },
  { "fatura-duzeltme", "fatura", "Faturadaki bilgiler yanlış",
    "Ad, adres ya da vergi bilgisi yanlışsa sipariş numaranızla bize yazın. Aynı ay içinde faturayı iptal edip doğrusunu düzenleriz.",
    "The details on my invoice are wrong",
    "If a name, address or tax detail is wrong, write to us with your order number. Within the same month we cancel the invoice and issue a correct one." },
  { "iade-faturasi", "fatura", "İade için fatura göndermem gerekir mi?",
    "Bireysel müşterilerin iade faturası düzenlemesi gerekmez. Kurumsal faturalı siparişlerde iade için şirketinizin düzenlediği **iade faturası** gerekir.",
    "Do I need to send an invoice with a return?",
    "Private customers need no invoice for a return. For an order with a company invoice, your company must issue a **return invoice**." },
  { "e-arsiv-nedir", "fatura", "E-arşiv fatura nedir?",
    "E-arşiv fatura, Gelir İdaresi Başkanlığı'na kayıtlı elektronik faturadır; kâğıt faturayla aynı geçerliliğe sahiptir. Faturanızı [GİB'in sorgulama sayfasından](https://ebelge.gib.gov.tr) doğrulayabilirsiniz.",
    nil, nil },
  { "odeme-yontemleri", "odeme", "Hangi ödeme yöntemleri var?",
    "Kredi kartı, banka kartı, havale/EFT ve **kapıda ödeme** (nakit ya da kart) ile ödeyebilirsiniz. Kart bilgileriniz bizde saklanmaz; ödeme 3D Secure ile alınır.",
    "Which payment methods can I use?",
    "Credit cards, debit cards, bank transfer and **cash on delivery** (cash or card). We never store your card details; payments go through 3D Secure." },
  { "taksit", "odeme", "Taksitle alabilir miyim?",
    "Anlaşmalı bankaların kredi kartlarıyla **3, 6 ve 9 taksit** seçenekleri ödeme adımında gösterilir. Bazı ürün gruplarında yasal düzenleme nedeniyle taksit yapılamaz.",
    "Can I pay in instalments?",
    "With credit cards of our partner banks, **3, 6 and 9 instalments** are offered at checkout. By law, some product groups cannot be sold in instalments." },
  { "kapida-odeme", "odeme", "Kapıda ödeme ücreti var mı?",
    "Kapıda ödeme için kargo firmasının aldığı **14,90 TL** hizmet bedeli siparişe eklenir. Kapıda ödemeli siparişlerde iade, banka hesabınıza (IBAN) yapılır.",
    "Is there a fee for cash on delivery?",
    "The carrier's **14.90 TL** fee for cash on delivery is added to the order. Refunds of cash-on-delivery orders go to your bank account (IBAN)." },
  { "odeme-alinmadi", "odeme", "Kartımdan para çekildi ama sipariş oluşmadı",
    "Bu durumda çekilen tutar bir **provizyondur** ve bankanız 1–7 gün içinde kendiliğinden iade eder. Sipariş oluşmadıysa tekrar sipariş verebilirsiniz; endişeniz varsa dekontla bize yazın.",
    "My card was charged but no order was created",
    "The amount is a **pre-authorisation** that your bank releases by itself within 1–7 days. You can order again; if you are worried, write to us with the receipt." },
  { "havale", "odeme", "Havale ile nasıl öderim?",
    "Ödeme adımında havale/EFT'yi seçin; IBAN bilgilerimiz ekranda ve e-postada gösterilir. Açıklamaya **sipariş numaranızı** yazın. Ödeme 24 saat içinde gelmezse sipariş iptal edilir.",
    "How do I pay by bank transfer?",
    "Choose bank transfer at checkout; our IBAN is shown on screen and e-mailed to you. Put your **order number** in the description. Orders unpaid after 24 hours are cancelled." },
  { "siparis-iptal", "hesap", "Siparişimi nasıl iptal ederim?",
    "Sipariş kargoya verilmeden önce **Hesabım → Siparişlerim** sayfasından iptal edebilirsiniz. Kargoya verildiyse paketi teslim almayın ya da iade sürecini başlatın; ücretiniz iade edilir.",
    "How do I cancel my order?",
    "Before it ships, cancel it under **My account → My orders**. Once shipped, refuse the parcel or start a return; you get your money back." },
  { "sifremi-unuttum", "hesap", "Şifremi unuttum",
    "Giriş sayfasında **Şifremi unuttum** bağlantısına tıklayın; e-postanıza gelen bağlantıyla yeni şifre belirleyin. E-posta gelmediyse gereksiz (spam) klasörüne bakın.",
    "I forgot my password",
    "Click **Forgot password** on the sign-in page and set a new one with the link we e-mail you. If no e-mail arrives, check your spam folder." },
  { "uyeliksiz-siparis", "hesap", "Üye olmadan sipariş verebilir miyim?",
    "Evet, misafir olarak sipariş verebilirsiniz. Siparişinizi e-postanızdaki bağlantıdan ya da sipariş numarası ve e-postanızla takip edebilirsiniz.",
    "Can I order without an account?",
    "Yes, you can check out as a guest. Follow your order from the link in your e-mail, or with your order number and e-mail address." },
  { "kisisel-veriler", "hesap", "Kişisel verilerim nasıl korunuyor?",
    "Verilerinizi KVKK'ya uygun olarak yalnızca siparişiniz ve sizinle iletişim için işliyoruz. Kampanya e-postası ve SMS'i yalnızca **onay verdiyseniz** gönderiyoruz; onayınızı her mesajdaki bağlantıyla geri alabilirsiniz.",
    "How is my personal data protected?",
    "We process your data under the Turkish data-protection law (KVKK) only for your orders and to contact you. We send campaign e-mails and texts **only with your consent**, which you can withdraw with the link in every message." },
  { "hesap-silme", "hesap", "Hesabımı nasıl silerim?",
    "**Hesabım → Ayarlar → Hesabı sil** ile hesabınızı silebilirsiniz. Yasal olarak saklamamız gereken fatura kayıtları dışında tüm verileriniz silinir.",
    "How do I delete my account?",
    "Use **My account → Settings → Delete account**. Everything is erased except the invoice records the law requires us to keep." },
}

-- Fills an empty help centre (or adds what is missing with force): {message}.
function demo.fill(args)
  if store.count_articles() > 0 and not args.force then
    return { message = "help centre: it has articles already; left as it is" }
  end
  local now = os.time()
  local cat_ids = {}
  for i, c in ipairs(CATEGORIES) do
    local found = store.category_by_slug(c[1])
    local id = found and found.id or store.category_add({ slug = c[1], position = i * 10 }, now)
    store.category_text(id, "tr", { title = c[2], description = c[3] })
    store.category_text(id, "en", { title = c[4], description = c[5] })
    cat_ids[c[1]] = id
  end
  local added = 0
  for i, a in ipairs(ARTICLES) do
    if not store.article_by_slug(a[1]) then
      local id = store.article_add({ slug = a[1], category_id = cat_ids[a[2]], position = i }, now)
      local texts = { tr = { title = a[3], body = a[4] } }
      if a[5] then texts.en = { title = a[5], body = a[6] } end
      for _, lang in ipairs(store.LANGS) do
        local t = texts[lang]
        if t then
          t.description = store.plain(t.body):sub(1, 155):gsub("[\128-\191]+$", ""):gsub("%s*%S*$", "") .. "…"
          store.article_text(id, lang, t, now)
          store.version_add(id, lang, t, "created", nil, now)
        end
      end
      store.set_status(id, "published", nil, now, now)
      added = added + 1
    end
  end
  return { message = string.format("help centre: %d articles in %d topics", added, #CATEGORIES) }
end

return demo
