"""A small help center in four languages: 13 articles each, on the usual support topics.

Keys are "<language>-<topic>" so a test can say which article a query should find.
"""

# ruff: noqa: RUF001 (Greek text on purpose)

ARTICLES: dict[str, tuple[str, str, str]] = {
    # English -----------------------------------------------------------------------------
    "en-refund": (
        "en",
        "How refunds work",
        "We refund the full price of an order within 14 days of delivery. Once we receive "
        "the parcel, the money goes back to the card you paid with in 5 to 10 business days.",
    ),
    "en-order-status": (
        "en",
        "Where is my order?",
        "Open Orders in your account to see the status of each order and its tracking link. "
        "An order ships within two working days.",
    ),
    "en-password": (
        "en",
        "Reset your password",
        "Forgot your password? Click 'Forgot password' on the sign-in page and we will email "
        "you a link to choose a new one. The link expires after one hour.",
    ),
    "en-login": (
        "en",
        "I cannot log in to my account",
        "If signing in fails, check that caps lock is off and that you use the email address "
        "of your account. After five failed attempts the account is locked for 15 minutes.",
    ),
    "en-payment-failed": (
        "en",
        "My payment was declined",
        "A card can be declined when the bank blocks online purchases or the billing address "
        "does not match. Try another card or contact your bank.",
    ),
    "en-invoice": (
        "en",
        "Download an invoice",
        "Every invoice is in Billing > Invoices as a PDF. Company details and VAT numbers can "
        "be added before you download it.",
    ),
    "en-address": (
        "en",
        "Change the shipping address",
        "You can change the delivery address until the parcel leaves our warehouse. Edit the "
        "address on the order page.",
    ),
    "en-cancel": (
        "en",
        "Cancel a subscription",
        "Subscriptions renew every month. Cancel any time in Settings > Plan; you keep access "
        "until the end of the period you paid for.",
    ),
    "en-delete": (
        "en",
        "Delete your account",
        "Deleting the account removes your profile, orders history and saved cards. This "
        "cannot be undone.",
    ),
    "en-2fa": (
        "en",
        "Turn on two-factor authentication",
        "Two-factor authentication asks for a code from your phone when you sign in. Turn it "
        "on in Settings > Security.",
    ),
    "en-returns": (
        "en",
        "Return an item",
        "Print the free return label from the order page, pack the item and drop it at any "
        "post office within 30 days.",
    ),
    "en-delivery": (
        "en",
        "Delivery times and costs",
        "Standard delivery takes 2 to 4 days and is free above 50 euro. Express delivery "
        "arrives the next day.",
    ),
    "en-discount": (
        "en",
        "Using a discount code",
        "Enter the discount code at checkout. Codes cannot be combined and do not apply to "
        "gift cards.",
    ),
    # Polish ------------------------------------------------------------------------------
    "pl-refund": (
        "pl",
        "Zwrot pieniędzy",
        "Zwrot pieniędzy za zamówienie otrzymasz w ciągu 14 dni od otrzymania paczki. "
        "Pieniądze wracają na kartę, którą zapłaciłeś.",
    ),
    "pl-order-status": (
        "pl",
        "Gdzie jest moje zamówienie?",
        "Status zamówienia i link do śledzenia przesyłki znajdziesz w zakładce Zamówienia "
        "na swoim koncie.",
    ),
    "pl-password": (
        "pl",
        "Jak zresetować hasło",
        "Nie pamiętasz hasła? Kliknij „Zapomniałem hasła” na stronie logowania, a wyślemy "
        "link do ustawienia nowego hasła.",
    ),
    "pl-login": (
        "pl",
        "Nie mogę się zalogować",
        "Jeśli logowanie się nie udaje, sprawdź adres e-mail i wyłącz caps lock. Po pięciu "
        "nieudanych próbach konto jest blokowane na 15 minut.",
    ),
    "pl-payment-failed": (
        "pl",
        "Płatność została odrzucona",
        "Bank może odrzucić płatność kartą, gdy blokuje zakupy w internecie. Spróbuj innej "
        "karty lub skontaktuj się z bankiem.",
    ),
    "pl-invoice": (
        "pl",
        "Pobieranie faktury",
        "Każda faktura jest dostępna w zakładce Rozliczenia jako PDF. Dane firmy i NIP "
        "możesz dodać przed pobraniem.",
    ),
    "pl-address": (
        "pl",
        "Zmiana adresu dostawy",
        "Adres dostawy możesz zmienić, dopóki paczka nie opuści magazynu.",
    ),
    "pl-cancel": (
        "pl",
        "Anulowanie subskrypcji",
        "Subskrypcja odnawia się co miesiąc. Anuluj ją w Ustawieniach; dostęp zostaje do "
        "końca opłaconego okresu.",
    ),
    "pl-delete": (
        "pl",
        "Usunięcie konta",
        "Usunięcie konta kasuje profil, historię zamówień i zapisane karty. Tej operacji "
        "nie można cofnąć.",
    ),
    "pl-2fa": (
        "pl",
        "Weryfikacja dwuetapowa",
        "Weryfikacja dwuetapowa wymaga kodu z telefonu przy logowaniu. Włącz ją w "
        "Ustawieniach bezpieczeństwa.",
    ),
    "pl-returns": (
        "pl",
        "Jak odesłać produkt",
        "Wydrukuj darmową etykietę, zapakuj produkt i nadaj go na poczcie w ciągu 30 dni.",
    ),
    "pl-delivery": (
        "pl",
        "Czas i koszt wysyłki",
        "Wysyłka standardowa trwa od 2 do 4 dni i jest darmowa powyżej 200 zł.",
    ),
    "pl-discount": (
        "pl",
        "Kod rabatowy",
        "Kod rabatowy wpisz w koszyku. Kodów nie można łączyć.",
    ),
    # Italian -----------------------------------------------------------------------------
    "it-refund": (
        "it",
        "Richiedere un rimborso",
        "Il rimborso dell'ordine arriva entro 14 giorni dalla ricezione del pacco, sulla "
        "stessa carta usata per il pagamento.",
    ),
    "it-order-status": (
        "it",
        "Dov'è il mio ordine?",
        "Lo stato di ogni ordine e il link di tracciamento sono nella sezione Ordini del tuo "
        "account.",
    ),
    "it-password": (
        "it",
        "Reimpostare la password",
        "Hai dimenticato la password? Clicca su 'Password dimenticata' nella pagina di accesso "
        "e riceverai un link per sceglierne una nuova.",
    ),
    "it-login": (
        "it",
        "Non riesco ad accedere",
        "Se l'accesso non riesce, controlla l'indirizzo email. Dopo cinque tentativi falliti "
        "l'account viene bloccato per 15 minuti.",
    ),
    "it-payment-failed": (
        "it",
        "Pagamento rifiutato",
        "La banca può rifiutare il pagamento con carta se blocca gli acquisti online. Prova "
        "un'altra carta.",
    ),
    "it-invoice": (
        "it",
        "Scaricare la fattura",
        "Ogni fattura è disponibile in PDF nella sezione Fatturazione. Puoi aggiungere la "
        "partita IVA prima di scaricarla.",
    ),
    "it-address": (
        "it",
        "Cambiare l'indirizzo di spedizione",
        "Puoi modificare l'indirizzo di spedizione finché il pacco non lascia il magazzino.",
    ),
    "it-cancel": (
        "it",
        "Annullare l'abbonamento",
        "L'abbonamento si rinnova ogni mese. Puoi annullarlo nelle Impostazioni; l'accesso "
        "resta attivo fino alla fine del periodo pagato.",
    ),
    "it-delete": (
        "it",
        "Eliminare l'account",
        "Eliminando l'account cancelli profilo, storico e carte salvate. L'operazione è "
        "definitiva.",
    ),
    "it-2fa": (
        "it",
        "Autenticazione a due fattori",
        "L'autenticazione a due fattori chiede un codice dal telefono all'accesso.",
    ),
    "it-returns": (
        "it",
        "Restituire un prodotto",
        "Stampa l'etichetta di reso gratuita, imballa il prodotto e consegnalo entro 30 giorni.",
    ),
    "it-delivery": (
        "it",
        "Tempi e costi di consegna",
        "La consegna standard richiede da 2 a 4 giorni ed è gratuita sopra i 50 euro.",
    ),
    "it-discount": (
        "it",
        "Usare un codice sconto",
        "Inserisci il codice sconto al momento del pagamento. I codici non sono cumulabili.",
    ),
    # Greek -------------------------------------------------------------------------------
    "el-refund": (
        "el",
        "Επιστροφή χρημάτων",
        "Η επιστροφή χρημάτων για μια παραγγελία γίνεται μέσα σε 14 ημέρες από την παραλαβή, "
        "στην κάρτα με την οποία πληρώσατε.",
    ),
    "el-order-status": (
        "el",
        "Πού είναι η παραγγελία μου;",
        "Την κατάσταση κάθε παραγγελίας και τον σύνδεσμο παρακολούθησης θα βρείτε στις "
        "Παραγγελίες του λογαριασμού σας.",
    ),
    "el-password": (
        "el",
        "Επαναφορά κωδικού πρόσβασης",
        "Ξεχάσατε τον κωδικό πρόσβασης; Πατήστε «Ξέχασα τον κωδικό» στη σελίδα σύνδεσης και "
        "θα σας στείλουμε σύνδεσμο για νέο κωδικό.",
    ),
    "el-login": (
        "el",
        "Δεν μπορώ να συνδεθώ",
        "Αν η σύνδεση αποτυγχάνει, ελέγξτε τη διεύθυνση email. Μετά από πέντε αποτυχημένες "
        "προσπάθειες ο λογαριασμός κλειδώνει για 15 λεπτά.",
    ),
    "el-payment-failed": (
        "el",
        "Η πληρωμή απορρίφθηκε",
        "Η τράπεζα μπορεί να απορρίψει την πληρωμή με κάρτα. Δοκιμάστε άλλη κάρτα.",
    ),
    "el-invoice": (
        "el",
        "Λήψη τιμολογίου",
        "Κάθε τιμολόγιο είναι διαθέσιμο ως PDF στη Χρέωση. Μπορείτε να προσθέσετε ΑΦΜ πριν "
        "τη λήψη.",
    ),
    "el-address": (
        "el",
        "Αλλαγή διεύθυνσης αποστολής",
        "Μπορείτε να αλλάξετε τη διεύθυνση αποστολής μέχρι να φύγει το δέμα από την αποθήκη.",
    ),
    "el-cancel": (
        "el",
        "Ακύρωση συνδρομής",
        "Η συνδρομή ανανεώνεται κάθε μήνα. Ακυρώστε τη στις Ρυθμίσεις.",
    ),
    "el-delete": (
        "el",
        "Διαγραφή λογαριασμού",
        "Η διαγραφή του λογαριασμού αφαιρεί το προφίλ και το ιστορικό. Δεν αναιρείται.",
    ),
    "el-2fa": (
        "el",
        "Έλεγχος ταυτότητας δύο παραγόντων",
        "Ο έλεγχος δύο παραγόντων ζητά κωδικό από το τηλέφωνο κατά τη σύνδεση.",
    ),
    "el-returns": (
        "el",
        "Επιστροφή προϊόντος",
        "Εκτυπώστε τη δωρεάν ετικέτα, συσκευάστε το προϊόν και παραδώστε το μέσα σε 30 ημέρες.",
    ),
    "el-delivery": (
        "el",
        "Χρόνοι και κόστος παράδοσης",
        "Η κανονική παράδοση διαρκεί 2 έως 4 ημέρες και είναι δωρεάν πάνω από 50 ευρώ.",
    ),
    "el-discount": (
        "el",
        "Χρήση κωδικού έκπτωσης",
        "Εισάγετε τον κωδικό έκπτωσης στο ταμείο. Οι κωδικοί δεν συνδυάζονται.",
    ),
}
