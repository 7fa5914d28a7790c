/*
 * Helpline chat widget. One tag puts a chat bubble on any page:
 *
 *   <script src="https://help.example.com/static/widget/widget.js"
 *           data-inbox="PUBLIC_KEY" async></script>
 *
 * Plain modern JavaScript: no framework, no build step, nothing required on the
 * host page. Everything the visitor sees lives in a Shadow DOM, so the host
 * page's CSS cannot reach it and ours cannot leak out.
 *
 * Message text is only ever put into the page as text nodes (textContent,
 * Node.append of strings): nothing a visitor or an agent writes is parsed as HTML.
 *
 * The protocol is described in docs/widget-protocol.md; embedding and options in
 * docs/widget.md.
 */
(function () {
  "use strict";

  if (window.__helplineWidget) return; // the snippet was pasted twice

  const script =
    document.currentScript ||
    document.querySelector('script[data-inbox][src*="widget.js"]');
  if (!script || !script.dataset.inbox) {
    console.warn("Helpline widget: the script tag needs data-inbox=\"PUBLIC_KEY\"");
    return;
  }

  // ------------------------------------------------------------------ texts

  /* Plural forms follow Intl.PluralRules categories, so "2 minuty" and "5 minut"
     come out right in Polish. Per-inbox texts (greeting, offline message) from
     the server's config override the defaults. */
  const TEXTS = {
    en: {
      launcher_open: "Chat with us",
      launcher_close: "Close chat",
      close: "Close",
      greeting: "Hi! How can we help?",
      prechat_intro: "Tell us a little about yourself and we'll connect you with an agent.",
      name: "Your name",
      email: "Email",
      topic: "Topic",
      topic_choose: "Choose a topic",
      message: "Message",
      start: "Start chat",
      starting: "Starting…",
      required_missing: "Please fill in the required fields.",
      email_invalid: "Please enter a valid email address.",
      online: "We're online",
      offline: "We're offline",
      conversation_number: "Conversation #{number}",
      waiting: "Waiting for an agent…",
      queue_position: "You are number {position} — about {wait}",
      queue_position_only: "You are number {position} in the queue",
      wait_under_minute: "less than a minute",
      minutes: { one: "{n} minute", other: "{n} minutes" },
      assigned: "{name} is helping you",
      joined: "{name} joined the chat",
      typing: "{name} is typing…",
      agent: "Agent",
      you: "You",
      placeholder: "Type your message…",
      send: "Send",
      attach: "Attach a file",
      sending: "Sending…",
      sent: "Sent",
      read: "Read",
      retrying: "Not sent yet — retrying",
      failed: "Not sent",
      uploading: "Uploading {name}…",
      file_too_large: "{name} is too large (at most {size}).",
      file_type: "Files of this type can't be sent: {name}",
      download: "Download",
      reconnecting: "Reconnecting…",
      error_generic: "Something went wrong. Please try again.",
      rate_limited: "You're sending messages too quickly. Please wait a moment.",
      unavailable: "Chat is not available right now.",
      offline_title: "Leave us a message",
      offline_intro: "No one is available to chat right now. Leave a message and we'll answer by email.",
      offline_send: "Send message",
      offline_sent: "Thank you! We received your message.",
      ended: "This conversation has ended.",
      solved: "The agent marked this conversation as solved.",
      reopened: "The conversation is open again.",
      transcript_label: "Email me a transcript",
      transcript_send: "Send transcript",
      transcript_sent: "We'll email the transcript to {email}.",
      csat_question: "How would you rate this conversation?",
      csat_score: "{n} out of 5",
      csat_comment: "Comment (optional)",
      csat_send: "Send rating",
      csat_thanks: "Thank you for your feedback!",
      nps_question: "How likely are you to recommend us to a friend or colleague?",
      nps_score: "{n} out of 10",
      nps_scale: "0: not at all likely · 10: extremely likely (optional)",
      new_chat: "Start a new conversation",
      powered: "Helpline",
    },
    pl: {
      launcher_open: "Napisz do nas",
      launcher_close: "Zamknij czat",
      close: "Zamknij",
      greeting: "Cześć! W czym możemy pomóc?",
      prechat_intro: "Przedstaw się, a połączymy Cię z konsultantem.",
      name: "Imię i nazwisko",
      email: "E-mail",
      topic: "Temat",
      topic_choose: "Wybierz temat",
      message: "Wiadomość",
      start: "Rozpocznij czat",
      starting: "Łączenie…",
      required_missing: "Uzupełnij wymagane pola.",
      email_invalid: "Podaj poprawny adres e-mail.",
      online: "Jesteśmy dostępni",
      offline: "Jesteśmy niedostępni",
      conversation_number: "Rozmowa nr {number}",
      waiting: "Czekamy na wolnego konsultanta…",
      queue_position: "Jesteś numerem {position} w kolejce — około {wait}",
      queue_position_only: "Jesteś numerem {position} w kolejce",
      wait_under_minute: "mniej niż minuta",
      minutes: { one: "{n} minuta", few: "{n} minuty", many: "{n} minut", other: "{n} minuty" },
      assigned: "Rozmawiasz z: {name}",
      joined: "{name} dołącza do rozmowy",
      typing: "{name} pisze…",
      agent: "Konsultant",
      you: "Ty",
      placeholder: "Napisz wiadomość…",
      send: "Wyślij",
      attach: "Załącz plik",
      sending: "Wysyłanie…",
      sent: "Wysłano",
      read: "Przeczytano",
      retrying: "Jeszcze nie wysłano — ponawiamy",
      failed: "Nie wysłano",
      uploading: "Przesyłanie pliku {name}…",
      file_too_large: "Plik {name} jest za duży (maks. {size}).",
      file_type: "Nie można wysłać plików tego typu: {name}",
      download: "Pobierz",
      reconnecting: "Ponowne łączenie…",
      error_generic: "Coś poszło nie tak. Spróbuj ponownie.",
      rate_limited: "Wysyłasz wiadomości zbyt szybko. Poczekaj chwilę.",
      unavailable: "Czat jest teraz niedostępny.",
      offline_title: "Zostaw wiadomość",
      offline_intro: "Nikt z nas nie może teraz rozmawiać. Zostaw wiadomość, a odpowiemy e-mailem.",
      offline_send: "Wyślij wiadomość",
      offline_sent: "Dziękujemy! Otrzymaliśmy Twoją wiadomość.",
      ended: "Rozmowa została zakończona.",
      solved: "Konsultant oznaczył rozmowę jako rozwiązaną.",
      reopened: "Rozmowa jest znowu otwarta.",
      transcript_label: "Wyślij mi zapis rozmowy",
      transcript_send: "Wyślij zapis",
      transcript_sent: "Zapis rozmowy wyślemy na adres {email}.",
      csat_question: "Jak oceniasz tę rozmowę?",
      csat_score: "{n} z 5",
      csat_comment: "Komentarz (opcjonalnie)",
      csat_send: "Wyślij ocenę",
      csat_thanks: "Dziękujemy za opinię!",
      nps_question: "Jak bardzo prawdopodobne jest, że polecisz nas znajomemu?",
      nps_score: "{n} z 10",
      nps_scale: "0: wcale · 10: na pewno (opcjonalnie)",
      new_chat: "Rozpocznij nową rozmowę",
      powered: "Helpline",
    },
    it: {
      launcher_open: "Chatta con noi",
      launcher_close: "Chiudi la chat",
      close: "Chiudi",
      greeting: "Ciao! Come possiamo aiutarti?",
      prechat_intro: "Dicci qualcosa di te e ti metteremo in contatto con un operatore.",
      name: "Nome",
      email: "Email",
      topic: "Argomento",
      topic_choose: "Scegli un argomento",
      message: "Messaggio",
      start: "Inizia la chat",
      starting: "Avvio…",
      required_missing: "Compila i campi obbligatori.",
      email_invalid: "Inserisci un indirizzo email valido.",
      online: "Siamo online",
      offline: "Siamo offline",
      conversation_number: "Conversazione n. {number}",
      waiting: "In attesa di un operatore…",
      queue_position: "Sei il numero {position} in coda — circa {wait}",
      queue_position_only: "Sei il numero {position} in coda",
      wait_under_minute: "meno di un minuto",
      minutes: { one: "{n} minuto", other: "{n} minuti" },
      assigned: "Ti sta aiutando {name}",
      joined: "{name} si è unito alla chat",
      typing: "{name} sta scrivendo…",
      agent: "Operatore",
      you: "Tu",
      placeholder: "Scrivi un messaggio…",
      send: "Invia",
      attach: "Allega un file",
      sending: "Invio…",
      sent: "Inviato",
      read: "Letto",
      retrying: "Non ancora inviato — nuovo tentativo",
      failed: "Non inviato",
      uploading: "Caricamento di {name}…",
      file_too_large: "{name} è troppo grande (al massimo {size}).",
      file_type: "Non è possibile inviare file di questo tipo: {name}",
      download: "Scarica",
      reconnecting: "Riconnessione…",
      error_generic: "Qualcosa è andato storto. Riprova.",
      rate_limited: "Stai inviando messaggi troppo in fretta. Attendi un momento.",
      unavailable: "La chat non è disponibile al momento.",
      offline_title: "Lasciaci un messaggio",
      offline_intro: "Al momento nessuno è disponibile in chat. Lasciaci un messaggio: ti risponderemo via email.",
      offline_send: "Invia messaggio",
      offline_sent: "Grazie! Abbiamo ricevuto il tuo messaggio.",
      ended: "La conversazione è terminata.",
      solved: "L'operatore ha segnato la conversazione come risolta.",
      reopened: "La conversazione è di nuovo aperta.",
      transcript_label: "Inviami la trascrizione via email",
      transcript_send: "Invia trascrizione",
      transcript_sent: "Invieremo la trascrizione a {email}.",
      csat_question: "Come valuti questa conversazione?",
      csat_score: "{n} su 5",
      csat_comment: "Commento (facoltativo)",
      csat_send: "Invia valutazione",
      csat_thanks: "Grazie per il tuo feedback!",
      nps_question: "Quanto è probabile che ci consiglieresti a un amico o a un collega?",
      nps_score: "{n} su 10",
      nps_scale: "0: per niente probabile · 10: estremamente probabile (facoltativo)",
      new_chat: "Inizia una nuova conversazione",
      powered: "Helpline",
    },
    el: {
      launcher_open: "Συνομιλήστε μαζί μας",
      launcher_close: "Κλείσιμο συνομιλίας",
      close: "Κλείσιμο",
      greeting: "Γεια σας! Πώς μπορούμε να βοηθήσουμε;",
      prechat_intro: "Πείτε μας λίγα λόγια για εσάς και θα σας συνδέσουμε με έναν εκπρόσωπο.",
      name: "Όνομα",
      email: "Email",
      topic: "Θέμα",
      topic_choose: "Επιλέξτε θέμα",
      message: "Μήνυμα",
      start: "Έναρξη συνομιλίας",
      starting: "Σύνδεση…",
      required_missing: "Συμπληρώστε τα υποχρεωτικά πεδία.",
      email_invalid: "Εισαγάγετε μια έγκυρη διεύθυνση email.",
      online: "Είμαστε διαθέσιμοι",
      offline: "Δεν είμαστε διαθέσιμοι",
      conversation_number: "Συνομιλία #{number}",
      waiting: "Αναμονή για διαθέσιμο εκπρόσωπο…",
      queue_position: "Είστε νούμερο {position} στη σειρά — περίπου {wait}",
      queue_position_only: "Είστε νούμερο {position} στη σειρά",
      wait_under_minute: "λιγότερο από ένα λεπτό",
      minutes: { one: "{n} λεπτό", other: "{n} λεπτά" },
      assigned: "Σας εξυπηρετεί: {name}",
      joined: "{name}: συμμετέχει στη συνομιλία",
      typing: "{name} πληκτρολογεί…",
      agent: "Εκπρόσωπος",
      you: "Εσείς",
      placeholder: "Γράψτε το μήνυμά σας…",
      send: "Αποστολή",
      attach: "Επισύναψη αρχείου",
      sending: "Αποστολή…",
      sent: "Στάλθηκε",
      read: "Διαβάστηκε",
      retrying: "Δεν στάλθηκε ακόμη — νέα προσπάθεια",
      failed: "Δεν στάλθηκε",
      uploading: "Μεταφόρτωση {name}…",
      file_too_large: "Το {name} είναι πολύ μεγάλο (έως {size}).",
      file_type: "Δεν επιτρέπεται η αποστολή αρχείων αυτού του τύπου: {name}",
      download: "Λήψη",
      reconnecting: "Επανασύνδεση…",
      error_generic: "Κάτι πήγε στραβά. Δοκιμάστε ξανά.",
      rate_limited: "Στέλνετε μηνύματα πολύ γρήγορα. Περιμένετε λίγο.",
      unavailable: "Η συνομιλία δεν είναι διαθέσιμη αυτή τη στιγμή.",
      offline_title: "Αφήστε μας ένα μήνυμα",
      offline_intro: "Κανείς δεν είναι διαθέσιμος αυτή τη στιγμή. Αφήστε μας ένα μήνυμα και θα σας απαντήσουμε με email.",
      offline_send: "Αποστολή μηνύματος",
      offline_sent: "Ευχαριστούμε! Λάβαμε το μήνυμά σας.",
      ended: "Η συνομιλία ολοκληρώθηκε.",
      solved: "Ο εκπρόσωπος σημείωσε τη συνομιλία ως επιλυμένη.",
      reopened: "Η συνομιλία άνοιξε ξανά.",
      transcript_label: "Στείλτε μου το ιστορικό με email",
      transcript_send: "Αποστολή ιστορικού",
      transcript_sent: "Θα στείλουμε το ιστορικό στο {email}.",
      csat_question: "Πώς θα βαθμολογούσατε αυτή τη συνομιλία;",
      csat_score: "{n} από 5",
      csat_comment: "Σχόλιο (προαιρετικό)",
      csat_send: "Αποστολή βαθμολογίας",
      csat_thanks: "Ευχαριστούμε για τα σχόλιά σας!",
      nps_question: "Πόσο πιθανό είναι να μας προτείνετε σε έναν φίλο ή συνάδελφο;",
      nps_score: "{n} από 10",
      nps_scale: "0: καθόλου πιθανό · 10: εξαιρετικά πιθανό (προαιρετικό)",
      new_chat: "Νέα συνομιλία",
      powered: "Helpline",
    },
  };
  const LOCALES = Object.keys(TEXTS);

  /** The first of the browser's languages we speak ("pl-PL" → "pl"), else English;
      and the full tag, so times are written the way that region writes them. */
  function chooseLocale(preferred) {
    for (const tag of preferred) {
      if (typeof tag !== "string" || !tag) continue;
      const base = tag.toLowerCase().split(/[-_]/)[0];
      if (LOCALES.includes(base)) {
        let format = base;
        try {
          const region = tag.replace("_", "-");
          if (Intl.DateTimeFormat.supportedLocalesOf(region).length) format = region;
        } catch {
          /* a malformed tag: the language alone will do */
        }
        return { texts: base, format };
      }
    }
    return { texts: "en", format: "en" };
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (whole, key) =>
      Object.prototype.hasOwnProperty.call(values || {}, key) ? String(values[key]) : whole,
    );
  }

  // ------------------------------------------------------------------ DOM helpers

  /** Build an element. Strings among the children become text nodes, never HTML. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (key === "value" || key === "checked" || key === "disabled") node[key] = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
    close: "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z",
    send: "M3 20.5 21 12 3 3.5 3 10l12 2-12 2z",
    attach:
      "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z",
  };

  function icon(name) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  /* Links in message text become <a> elements built node by node. Only http(s)
     and mailto targets are linked; trailing punctuation stays prose. */
  const LINK_PATTERN =
    /\bhttps?:\/\/[^\s<>"'`]+|\bwww\.[^\s<>"'`]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b/gi;

  function linkTarget(raw) {
    let candidate = raw;
    if (/^www\./i.test(raw)) candidate = "https://" + raw;
    else if (!/^https?:\/\//i.test(raw)) candidate = "mailto:" + raw;
    try {
      const url = new URL(candidate);
      return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
    } catch {
      return null;
    }
  }

  function trimLink(raw) {
    let text = raw.replace(/[.,;:!?'"]+$/, "");
    // A closing bracket belongs to the link only when the link opened one.
    while (/[)\]}]$/.test(text)) {
      const close = text.slice(-1);
      const open = { ")": "(", "]": "[", "}": "{" }[close];
      if (text.split(open).length >= text.split(close).length) break;
      text = text.slice(0, -1).replace(/[.,;:!?'"]+$/, "");
    }
    return text;
  }

  function linkified(text) {
    const fragment = document.createDocumentFragment();
    let position = 0;
    for (const match of String(text).matchAll(LINK_PATTERN)) {
      const shown = trimLink(match[0]);
      const href = shown ? linkTarget(shown) : null;
      if (!href) continue;
      fragment.append(text.slice(position, match.index));
      fragment.append(
        h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, shown),
      );
      position = match.index + shown.length;
    }
    fragment.append(text.slice(position));
    return fragment;
  }

  function formatBytes(bytes) {
    if (!Number.isFinite(bytes)) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0) + " MB";
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ------------------------------------------------------------------ storage

  /** What survives reloads and navigation: the visitor token, the conversation
      being followed, unsent messages. Kept per inbox in the host's localStorage. */
  class Store {
    constructor(publicKey) {
      this.key = "helpline:" + publicKey;
      this.data = this.read();
    }

    read() {
      try {
        const parsed = JSON.parse(window.localStorage.getItem(this.key) || "{}");
        return parsed && typeof parsed === "object" ? parsed : {};
      } catch {
        return {};
      }
    }

    save() {
      try {
        window.localStorage.setItem(this.key, JSON.stringify(this.data));
      } catch {
        /* storage full or blocked: the chat still works for this page view */
      }
    }

    set(values) {
      Object.assign(this.data, values);
      this.save();
    }

    forgetSession() {
      this.data = { open: this.data.open };
      this.save();
    }
  }

  // ------------------------------------------------------------------ HTTP

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const error = (body && body.error) || {};
      super(error.message || "HTTP " + status);
      this.status = status;
      this.code = error.code || "";
      this.details = error.details || {};
      this.retryAfter = retryAfter;
    }
  }

  /** The visitor API under /api/v1/widget/{public_key}/: JSON in and out, the
      visitor token as a bearer token, never cookies. */
  class Api {
    constructor(base, tokenOf) {
      this.base = base;
      this.tokenOf = tokenOf;
    }

    url(path, query) {
      const url = new URL(path, this.base);
      for (const [key, value] of Object.entries(query || {})) {
        if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
      }
      return url.href;
    }

    async request(method, path, options) {
      const { json, form, query, auth = true } = options || {};
      const headers = { Accept: "application/json" };
      const token = this.tokenOf();
      if (auth && token) headers.Authorization = "Bearer " + token;
      let body;
      if (json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(json);
      } else if (form !== undefined) {
        body = form;
      }
      const response = await fetch(this.url(path, query), {
        method,
        headers,
        body,
        credentials: "omit",
        mode: "cors",
      });
      let payload = null;
      if ((response.headers.get("Content-Type") || "").includes("json")) {
        payload = await response.json().catch(() => null);
      }
      if (!response.ok) {
        const retryAfter = Number(response.headers.get("Retry-After")) || 0;
        throw new ApiError(response.status, payload, retryAfter);
      }
      return payload;
    }

    get(path, options) {
      return this.request("GET", path, options);
    }

    post(path, json, options) {
      return this.request("POST", path, { ...(options || {}), json });
    }

    /** Attachment bytes (needs the token, so <img src> cannot fetch it alone). */
    async blob(href) {
      const token = this.tokenOf();
      const response = await fetch(new URL(href, this.base).href, {
        headers: token ? { Authorization: "Bearer " + token } : {},
        credentials: "omit",
        mode: "cors",
      });
      if (!response.ok) throw new ApiError(response.status, null, 0);
      return response.blob();
    }
  }

  // ------------------------------------------------------------------ WebSocket

  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const PING_EVERY_MS = 25000;
  const SILENCE_LIMIT_MS = 60000;
  const STABLE_AFTER_MS = 10000;
  const FATAL_CLOSE_CODES = new Set([4401]); // the token is no good: renew the session

  /** One WebSocket that keeps itself connected: exponential backoff with jitter,
      pings, and an immediate retry when the browser comes back online. */
  class Connection {
    constructor(urlOf, handlers) {
      this.urlOf = urlOf;
      this.handlers = handlers;
      this.socket = null;
      this.attempt = 0;
      this.retryTimer = null;
      this.pingTimer = null;
      this.stopped = true;
      this.state = "idle";
      window.addEventListener("online", () => this.nudge());
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") this.nudge();
      });
    }

    get isOpen() {
      return !!this.socket && this.socket.readyState === WebSocket.OPEN;
    }

    start() {
      if (!this.stopped) return;
      this.stopped = false;
      this.connect();
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      clearInterval(this.pingTimer);
      if (this.socket) this.socket.close(1000);
      this.socket = null;
      this.setState("idle");
    }

    /** Reconnect now instead of waiting out the backoff (network is back). */
    nudge() {
      if (this.stopped || this.socket) return;
      clearTimeout(this.retryTimer);
      this.connect();
    }

    setState(state) {
      if (state === this.state) return;
      this.state = state;
      this.handlers.state(state);
    }

    connect() {
      this.retryTimer = null;
      this.setState(this.attempt ? "reconnecting" : "connecting");
      let socket;
      try {
        socket = new WebSocket(this.urlOf());
      } catch {
        this.scheduleRetry();
        return;
      }
      this.socket = socket;
      let openedAt = 0;
      let lastFrameAt = Date.now();
      socket.onopen = () => {
        openedAt = Date.now();
        lastFrameAt = openedAt;
        this.setState("open");
        this.pingTimer = setInterval(() => {
          if (Date.now() - lastFrameAt > SILENCE_LIMIT_MS) socket.close(4000, "silent");
          else this.send({ type: "ping" });
        }, PING_EVERY_MS);
        this.handlers.open();
      };
      socket.onmessage = (message) => {
        lastFrameAt = Date.now();
        this.attempt = 0;
        let frame;
        try {
          frame = JSON.parse(message.data);
        } catch {
          return;
        }
        if (frame && typeof frame === "object") this.handlers.frame(frame);
      };
      socket.onclose = (closing) => {
        clearInterval(this.pingTimer);
        if (this.socket === socket) this.socket = null;
        if (this.stopped) return;
        if (openedAt && Date.now() - openedAt > STABLE_AFTER_MS) this.attempt = 0;
        if (FATAL_CLOSE_CODES.has(closing.code) && this.handlers.fatal(closing)) {
          this.stopped = true;
          this.setState("idle");
          return;
        }
        this.scheduleRetry();
      };
      socket.onerror = () => {
        /* a close event follows; the retry happens there */
      };
    }

    scheduleRetry() {
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
      this.attempt += 1;
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      this.setState("reconnecting");
      this.retryTimer = setTimeout(() => this.connect(), delay);
    }

    send(frame) {
      if (!this.isOpen) return false;
      this.socket.send(JSON.stringify(frame));
      return true;
    }
  }

  // ------------------------------------------------------------------ FAQ bot (AI assist)
  // The bot answers from help-center articles; these functions add its buttons:
  // "Talk to a human" (always shown while the bot answers) and "That didn't help"
  // under each of its answers. The server decides about handovers.

  const BOT_TEXTS = {
    en: { human: "Talk to a human", unhelpful: "That didn't help", bot: "Bot" },
    pl: { human: "Porozmawiaj z człowiekiem", unhelpful: "To nie pomogło", bot: "Bot" },
    it: { human: "Parla con una persona", unhelpful: "Non mi è stato utile", bot: "Bot" },
    el: { human: "Μιλήστε με άνθρωπο", unhelpful: "Δεν βοήθησε", bot: "Bot" },
  };

  function botText(widget, key) {
    return (BOT_TEXTS[widget.locale] || BOT_TEXTS.en)[key];
  }

  function botPath(widget, suffix) {
    return `conversations/${widget.conversation.id}/bot${suffix}`;
  }

  /** Called for every message shown in the log. */
  function botMessageShown(widget, node, message) {
    if ((message.author || message.author_type) !== "bot") return;
    node.classList.add("hl-msg-bot");
    if ((message.body || "").includes("\n\nSource: ")) {
      const button = h(
        "button",
        { class: "hl-bot-unhelpful", type: "button", onclick: () => botUnhelpful(widget, button) },
        botText(widget, "unhelpful"),
      );
      node.append(button);
    }
    refreshBot(widget);
  }

  async function refreshBot(widget) {
    if (!widget.conversation || widget.botRefreshing) return;
    widget.botRefreshing = true;
    try {
      applyBotState(widget, await widget.api.get(botPath(widget, "")));
    } catch {
      /* the buttons are a nicety; typing "human" works too */
    } finally {
      widget.botRefreshing = false;
    }
  }

  function applyBotState(widget, state) {
    const wasActive = Boolean(widget.botBar);
    if (state && state.bot_active) {
      if (!widget.botBar && widget.composer) {
        widget.botBar = h(
          "div",
          { class: "hl-bot-bar" },
          h("button", { class: "hl-bot-human", type: "button", onclick: () => botHandover(widget) }, botText(widget, "human")),
        );
        widget.composer.before(widget.botBar);
      }
      return;
    }
    if (widget.botBar) widget.botBar.remove();
    widget.botBar = null;
    if (widget.log) {
      for (const button of widget.log.querySelectorAll(".hl-bot-unhelpful")) button.remove();
    }
    if (state && state.offline && (wasActive || state.handed_over)) widget.setView("offline");
  }

  async function botHandover(widget) {
    try {
      applyBotState(widget, await widget.api.post(botPath(widget, "/handover"), {}));
    } catch {
      widget.flash(widget.t("error_generic"), true);
    }
  }

  async function botUnhelpful(widget, button) {
    button.disabled = true;
    try {
      applyBotState(widget, await widget.api.post(botPath(widget, "/unhelpful"), {}));
    } catch {
      widget.flash(widget.t("error_generic"), true);
    }
  }

  // ------------------------------------------------------------------ reading server data

  function localized(value, locale) {
    if (!value) return "";
    if (typeof value === "string") return value;
    if (typeof value === "object") {
      return value[locale] || value.en || Object.values(value).find((v) => typeof v === "string") || "";
    }
    return "";
  }

  /** The inbox's config (GET config), with defaults for whatever is left out. */
  function readConfig(raw, locale) {
    const config = raw || {};
    const prechat = config.prechat || {};
    const field = (value, required) => ({
      show: !value || value.show !== false,
      required: value && typeof value.required === "boolean" ? value.required : required,
    });
    const limits = config.attachments || {};
    return {
      name: (config.inbox && config.inbox.name) || "",
      online: config.online !== false,
      faqBot: config.faq_bot === true, // the FAQ bot chats when nobody is online (AI assist)
      askNps: config.nps === true, // the rating form also asks "would you recommend us?"
      greeting: localized(config.greeting, locale),
      offlineMessage: localized(config.offline_message, locale),
      expectedReply: localized(config.expected_reply, locale),
      nameField: field(prechat.name, true),
      emailField: field(prechat.email, false),
      topics: (config.topics || [])
        .map((topic) => ({
          label: localized(topic.label, locale) || topic.category,
          category: topic.category,
        }))
        .filter((topic) => topic.label && topic.category),
      maxBytes: Number(limits.max_bytes) || 0,
      allowedTypes: Array.isArray(limits.allowed_types) ? limits.allowed_types : [],
      color: null,
      position: "right",
    };
  }

  function typeAllowed(type, allowed) {
    if (!allowed || !allowed.length) return true;
    const mime = (type || "application/octet-stream").toLowerCase();
    return allowed.some((pattern) => {
      const wanted = String(pattern).toLowerCase();
      return wanted.endsWith("/*") ? mime.startsWith(wanted.slice(0, -1)) : mime === wanted;
    });
  }

  const ENDED_STATUSES = new Set(["solved", "closed"]);

  // ------------------------------------------------------------------ help: article suggestions, lookups
  /* Issue 6 (help center). Kept apart from the chat code: the widget calls
     readHelpConfig, attachSuggestions, selfServiceView and helpChatStarted. */

  const HELP_TEXTS = {
    en: {
      suggestions: "These articles may answer your question:",
      lookup_check: "Check",
      lookup_not_found: "We couldn't find anything for that.",
      lookup_unverified: "Please sign in on our site to check this here.",
      lookup_unavailable: "This check isn't available right now. You can still chat with us.",
      lookup_busy: "Checking…",
    },
    pl: {
      suggestions: "Te artykuły mogą odpowiedzieć na Twoje pytanie:",
      lookup_check: "Sprawdź",
      lookup_not_found: "Nic nie znaleźliśmy.",
      lookup_unverified: "Zaloguj się na naszej stronie, aby to tutaj sprawdzić.",
      lookup_unavailable: "To sprawdzenie jest teraz niedostępne. Możesz napisać do nas na czacie.",
      lookup_busy: "Sprawdzanie…",
    },
    it: {
      suggestions: "Questi articoli potrebbero rispondere alla tua domanda:",
      lookup_check: "Verifica",
      lookup_not_found: "Non abbiamo trovato nulla.",
      lookup_unverified: "Accedi al nostro sito per verificarlo qui.",
      lookup_unavailable: "Questa verifica non è disponibile ora. Puoi comunque scriverci in chat.",
      lookup_busy: "Verifica in corso…",
    },
    el: {
      suggestions: "Αυτά τα άρθρα ίσως απαντούν στην ερώτησή σας:",
      lookup_check: "Έλεγχος",
      lookup_not_found: "Δεν βρήκαμε τίποτα.",
      lookup_unverified: "Συνδεθείτε στον ιστότοπό μας για να το ελέγξετε εδώ.",
      lookup_unavailable: "Ο έλεγχος δεν είναι διαθέσιμος τώρα. Μπορείτε να μας γράψετε στη συνομιλία.",
      lookup_busy: "Έλεγχος…",
    },
  };
  const SUGGEST_DELAY_MS = 300;
  const SUGGEST_MIN_CHARS = 3;
  const SUGGEST_LIMIT = 3;

  function helpText(widget, key) {
    return (HELP_TEXTS[widget.locale] || HELP_TEXTS.en)[key] || HELP_TEXTS.en[key];
  }

  /** The help part of the inbox's config: suggestions on unless switched off. */
  function readHelpConfig(raw, locale) {
    const config = raw || {};
    return {
      suggestions: config.article_suggestions !== false,
      lookups: (Array.isArray(config.lookups) ? config.lookups : [])
        .filter((item) => item && typeof item.key === "string")
        .map((item) => ({
          key: item.key,
          label: localized(item.label, locale) || item.key,
          inputLabel: item.input_label ? localized(item.input_label, locale) : "",
        })),
    };
  }

  const HTML_ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };

  /** Search highlights come as escaped text with <mark> around matches. They are
      rebuilt as text nodes and <mark> elements: never parsed as HTML. */
  function markedNodes(html) {
    const fragment = document.createDocumentFragment();
    String(html || "")
      .split(/(<mark>|<\/mark>)/)
      .reduce((marked, part) => {
        if (part === "<mark>") return true;
        if (part === "</mark>") return false;
        const text = part.replace(/&(?:amp|lt|gt|quot|#x27|#39);/g, (entity) => HTML_ENTITIES[entity]);
        if (text) fragment.append(marked ? h("mark", {}, text) : text);
        return marked;
      }, false);
    return fragment;
  }

  /** Suggest articles under the first-message box while the visitor types;
      returns the form. */
  function attachSuggestions(widget, form) {
    const help = widget.config.help;
    const textarea = form.querySelector('textarea[name="message"]');
    if (!help || !help.suggestions || !textarea) return form;
    const list = h("ul", { class: "hl-suggest-list" });
    const box = h(
      "div",
      { class: "hl-suggest", "aria-live": "polite", hidden: true },
      h("p", { class: "hl-suggest-heading" }, helpText(widget, "suggestions")),
      list,
    );
    textarea.closest(".hl-field").after(box);
    let timer = null;
    let asked = 0;
    let lastQuery = "";
    const show = (hits) => {
      list.replaceChildren(
        ...hits.map((hit) =>
          h(
            "li",
            {},
            h(
              "a",
              {
                class: "hl-suggest-link",
                href: hit.url,
                target: "_blank",
                rel: "noopener noreferrer",
                onclick: () => recordArticleView(widget, hit.id),
              },
              h("span", { class: "hl-suggest-title" }, markedNodes(hit.title_html || hit.title)),
              hit.snippet_html ? h("span", { class: "hl-suggest-snippet" }, markedNodes(hit.snippet_html)) : null,
            ),
          ),
        ),
      );
      box.hidden = hits.length === 0;
    };
    const search = async (query) => {
      const ticket = ++asked;
      let answer;
      try {
        answer = await widget.api.get("articles/search", {
          auth: false,
          query: { q: query, language: widget.locale, limit: SUGGEST_LIMIT },
        });
      } catch {
        answer = null; // rate limited or offline: suggestions are a nicety
      }
      if (ticket !== asked) return; // a newer keystroke already asked again
      const hits = ((answer && answer.data) || []).filter((hit) => typeof hit.url === "string" && /^https?:/.test(hit.url));
      show(hits);
    };
    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      const query = textarea.value.trim();
      if (query.length < SUGGEST_MIN_CHARS) {
        asked += 1;
        lastQuery = "";
        show([]);
        return;
      }
      if (query === lastQuery) return;
      timer = setTimeout(() => {
        lastQuery = query;
        search(query);
      }, SUGGEST_DELAY_MS);
    });
    return form;
  }

  /** Opening a suggestion starts (or extends) a self-service session; the server
      counts it as a deflection when no chat follows. */
  async function recordArticleView(widget, articleId) {
    const store = widget.store;
    const token = store.data.token || store.data.help_token || undefined;
    try {
      const answer = await widget.api.post(
        "deflection/view",
        { article_id: articleId, visitor_token: token },
        { auth: false },
      );
      const update = { help_view_token: answer.visitor_token };
      if (!store.data.token) update.help_token = answer.visitor_token;
      store.set(update);
    } catch {
      /* not counted; the visitor still reads the article */
    }
  }

  /** The visitor started a chat after reading: their session is not a deflection. */
  async function helpChatStarted(widget) {
    const token = widget.store.data.help_view_token;
    if (!token) return;
    try {
      await widget.api.post("deflection/chat-started", { visitor_token: token }, { auth: false });
      widget.store.set({ help_view_token: null, help_token: null });
    } catch {
      /* the worker still matches a signed-in customer's chat by their contact */
    }
  }

  /** "Order status"-style lookups for a customer the site has verified; for
      anyone else nothing is shown (the server refuses them too). */
  function selfServiceView(widget) {
    const help = widget.config.help;
    if (!help || !help.lookups.length || !widget.contact || widget.contact.verified !== true) return null;
    return h(
      "div",
      { class: "hl-lookups" },
      help.lookups.map((lookup) => lookupForm(widget, lookup)),
    );
  }

  function lookupForm(widget, lookup) {
    const result = h("div", { class: "hl-lookup-result", role: "status", "aria-live": "polite" });
    const input = lookup.inputLabel
      ? h("input", { name: "input", maxlength: "100", autocomplete: "off" })
      : null;
    const submit = h("button", { class: "hl-secondary", type: "submit" }, lookup.label);
    const form = h(
      "form",
      { class: "hl-form hl-lookup", novalidate: true, "data-lookup": lookup.key },
      input ? widget.field("hl-lookup-" + lookup.key, lookup.inputLabel, input, true) : null,
      submit,
      result,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (input && !input.value.trim()) {
        input.focus();
        return;
      }
      submit.disabled = true;
      result.replaceChildren(h("p", { class: "hl-intro" }, helpText(widget, "lookup_busy")));
      try {
        const answer = await widget.api.post(`lookups/${encodeURIComponent(lookup.key)}`, {
          input: input ? input.value.trim() : undefined,
          language: widget.locale,
        });
        result.replaceChildren(lookupAnswerView(widget, answer || {}));
      } catch (failure) {
        let key = "lookup_unavailable";
        if (failure instanceof ApiError && failure.status === 403) key = "lookup_unverified";
        const text = failure instanceof ApiError && failure.status === 429 ? widget.t("rate_limited") : helpText(widget, key);
        result.replaceChildren(h("p", { class: "hl-form-error" }, text));
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  /** The shop's answer, as text only; a "link" field is a link only for http(s). */
  function lookupAnswerView(widget, answer) {
    if (!answer.found) return h("p", { class: "hl-intro" }, answer.message || helpText(widget, "lookup_not_found"));
    const rows = (answer.fields || []).map((item) => {
      let value = String(item.value);
      if (item.type === "link" && /^https?:\/\//i.test(value)) {
        value = h("a", { href: value, target: "_blank", rel: "noopener noreferrer nofollow" }, value);
      }
      return [h("dt", {}, String(item.label)), h("dd", {}, value)];
    });
    return h(
      "div",
      { class: "hl-lookup-answer" },
      answer.title ? h("p", { class: "hl-lookup-title" }, answer.title) : null,
      answer.message ? h("p", { class: "hl-intro" }, answer.message) : null,
      rows.length ? h("dl", {}, rows) : null,
    );
  }

  // ------------------------------------------------------------------ the widget

  class Widget {
    constructor(env) {
      this.env = env;
      this.store = new Store(env.publicKey);
      this.api = new Api(env.apiBase, () => this.store.data.token || null);
      this.connection = new Connection(() => this.socketUrl(), {
        state: (state) => this.onConnectionState(state),
        open: () => this.onSocketOpen(),
        frame: (frame) => this.onFrame(frame),
        fatal: (closing) => this.onFatalClose(closing),
      });
      const chosen = chooseLocale([env.locale, ...(navigator.languages || []), navigator.language]);
      this.locale = chosen.texts;
      this.formatLocale = chosen.format;
      this.texts = TEXTS[this.locale];
      this.config = null;
      this.view = "loading";
      this.isOpen = false;
      this.contact = null;
      this.conversation = null;
      this.cursor = 0; // the last seq received in order: where a reconnect resumes
      this.shown = new Map(); // seq -> <li> already in the log
      this.pending = []; // messages sent but not yet acknowledged
      this.queue = null;
      this.agentReadSeq = 0;
      this.visitorReadSeq = 0;
      this.unread = 0;
      this.typingTimer = null;
      this.agentTypingTimer = null;
      this.lastTypingSentAt = 0;
      this.blobCache = new Map(); // attachment URL -> Promise of an object URL
    }

    t(key, values) {
      const text = this.texts[key] !== undefined ? this.texts[key] : TEXTS.en[key];
      return fill(text, values);
    }

    minutes(count) {
      const forms = this.texts.minutes;
      const category = new Intl.PluralRules(this.locale).select(count);
      return fill(forms[category] || forms.other, { n: count });
    }

    waitText(seconds) {
      if (!Number.isFinite(seconds) || seconds < 60) return this.t("wait_under_minute");
      return this.minutes(Math.max(1, Math.round(seconds / 60)));
    }

    socketUrl() {
      const url = new URL(this.env.socketBase);
      url.searchParams.set("token", this.store.data.token || "");
      return url.href;
    }

    // ---------------------------------------------------------------- start-up

    async boot() {
      let raw;
      try {
        raw = await this.api.get("config", { auth: false, query: { locale: this.locale } });
      } catch (error) {
        // A page not on the inbox's allowed domains gets no bubble at all.
        console.warn("Helpline widget: no config for this inbox", error.message);
        return;
      }
      this.config = readConfig(raw, this.locale);
      this.config.help = readHelpConfig(raw, this.locale);
      const color = this.env.color || "";
      if (/^#[0-9a-f]{3,8}$/i.test(color)) this.config.color = color;
      if (this.env.position === "left") this.config.position = "left";
      this.mount();
      this.forgetOtherCustomer();
      if (this.store.data.token || this.env.identity.external_id) {
        await this.restore();
      } else {
        this.showStartView();
      }
      if (this.store.data.open || this.env.openAtStart) this.open();
    }

    /** A token belongs to one customer: a different signed-in customer (or a
        signed-out one) on this browser must not see the previous one's chats. */
    forgetOtherCustomer() {
      const stored = this.store.data.external_id || null;
      const current = this.env.identity.external_id || null;
      if (this.store.data.token && stored !== current) this.store.forgetSession();
    }

    async startSession(details) {
      const body = { ...details };
      const identity = this.env.identity;
      if (this.store.data.token) body.visitor_token = this.store.data.token;
      for (const key of ["external_id", "identifier_hash", "name", "email"]) {
        if (identity[key] && body[key] === undefined) body[key] = identity[key];
      }
      for (const key of Object.keys(body)) if (body[key] === "" || body[key] == null) delete body[key];
      const session = await this.api.post("sessions", body, { auth: false });
      this.contact = session.contact || null;
      this.store.set({ token: session.visitor_token, external_id: identity.external_id || null });
      return session;
    }

    async restore() {
      try {
        // A signed-in customer proves their id on every page; an anonymous
        // visitor's stored token is simply used (and renewed only when refused).
        if (this.env.identity.external_id || !this.store.data.token) await this.startSession({});
        const listing = await this.api.get("conversations");
        const conversations = Array.isArray(listing) ? listing : (listing && listing.data) || [];
        const wanted = this.store.data.conversation_id;
        let current =
          conversations.find((item) => item.id === wanted && !ENDED_STATUSES.has(item.status)) ||
          conversations[0];
        // The visitor asked for a new conversation: an ended one stays behind.
        if (current && this.store.data.fresh && ENDED_STATUSES.has(current.status)) current = null;
        if (current) {
          await this.enterConversation(current);
          return;
        }
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
          this.store.forgetSession(); // expired or foreign token: start over
        } else {
          this.flash(this.t("error_generic"), true);
        }
      }
      this.showStartView();
    }

    showStartView() {
      this.conversation = null;
      this.setView(this.config.online || this.config.faqBot ? "prechat" : "offline");
    }

    // ---------------------------------------------------------------- the frame

    mount() {
      const host = document.createElement("div");
      host.setAttribute("data-helpline-widget", "");
      const shadow = host.attachShadow({ mode: "open" });
      this.host = host;
      this.shadow = shadow;
      const sheet = h("link", { rel: "stylesheet", href: this.env.cssUrl });
      const root = h("div", { class: "hl-root", lang: this.locale, hidden: true });
      if (this.config.position === "left") root.classList.add("hl-left");
      if (this.config.color) root.style.setProperty("--hl-accent", this.config.color);
      // Shown once the stylesheet is in, so the page never flashes unstyled controls.
      sheet.addEventListener("load", () => (root.hidden = false));
      sheet.addEventListener("error", () => (root.hidden = false));
      this.root = root;

      this.titleNode = h("h2", { class: "hl-title", id: "hl-title" }, this.config.name);
      this.subtitleNode = h("p", { class: "hl-subtitle" });
      this.banner = h("div", { class: "hl-banner", role: "status", hidden: true });
      this.statusNode = h("div", { class: "hl-status", role: "status", "aria-live": "polite", hidden: true });
      this.body = h("div", { class: "hl-body" });
      this.panel = h(
        "section",
        { class: "hl-panel", role: "dialog", "aria-labelledby": "hl-title", hidden: true },
        h(
          "header",
          { class: "hl-header" },
          h("div", { class: "hl-heading" }, this.titleNode, this.subtitleNode),
          h(
            "button",
            { class: "hl-close", type: "button", "aria-label": this.t("close"), onclick: () => this.close() },
            icon("close"),
          ),
        ),
        this.banner,
        this.statusNode,
        this.body,
      );
      this.badge = h("span", { class: "hl-badge", hidden: true });
      this.launcher = h(
        "button",
        {
          class: "hl-launcher",
          type: "button",
          "aria-label": this.t("launcher_open"),
          "aria-expanded": "false",
          onclick: () => (this.isOpen ? this.close() : this.open()),
        },
        icon("chat"),
        this.badge,
      );
      root.append(this.panel, this.launcher);
      shadow.append(sheet, root);
      this.panel.addEventListener("keydown", (event) => {
        if (event.key === "Escape") this.close();
      });
      (document.body || document.documentElement).append(host);
    }

    open() {
      if (!this.root) return;
      this.isOpen = true;
      this.panel.hidden = false;
      this.root.classList.add("hl-open");
      this.launcher.setAttribute("aria-expanded", "true");
      this.launcher.setAttribute("aria-label", this.t("launcher_close"));
      this.launcher.firstChild.replaceWith(icon("close"));
      this.store.set({ open: true });
      this.unread = 0;
      this.renderBadge();
      this.markRead();
      this.scrollToEnd();
      const focusable = this.body.querySelector("textarea, input, select, button");
      if (focusable) focusable.focus({ preventScroll: true });
    }

    close() {
      if (!this.root) return;
      this.isOpen = false;
      this.panel.hidden = true;
      this.root.classList.remove("hl-open");
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.setAttribute("aria-label", this.t("launcher_open"));
      this.launcher.firstChild.replaceWith(icon("chat"));
      this.store.set({ open: false });
      this.launcher.focus({ preventScroll: true });
    }

    renderBadge() {
      this.badge.hidden = this.unread === 0;
      this.badge.textContent = this.unread > 9 ? "9+" : String(this.unread);
    }

    flash(text, isError) {
      this.banner.textContent = text;
      this.banner.classList.toggle("hl-error", !!isError);
      this.banner.hidden = false;
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => this.renderConnectionBanner(), 6000);
    }

    renderConnectionBanner() {
      const reconnecting = this.view === "chat" && this.connection.state === "reconnecting";
      this.banner.classList.remove("hl-error");
      this.banner.textContent = reconnecting ? this.t("reconnecting") : "";
      this.banner.hidden = !reconnecting;
    }

    setView(view) {
      this.view = view;
      this.root.dataset.view = view;
      this.body.replaceChildren();
      this.log = null;
      this.shown.clear();
      this.endedNode = null;
      if (view === "prechat") this.body.append(this.prechatView());
      else if (view === "offline") this.body.append(this.offlineView());
      else if (view === "offline_sent") this.body.append(this.offlineSentView());
      else if (view === "chat") this.body.append(...this.chatView());
      this.renderStatus();
      this.renderConnectionBanner();
    }

    /** The header's second line and the status strip: online state, the queue
        position while waiting, the agent's name once assigned. */
    renderStatus() {
      if (!this.root) return;
      let subtitle = this.config.online ? this.t("online") : this.t("offline");
      let status = "";
      const conversation = this.conversation;
      if (this.view === "chat" && conversation) {
        // The number is what the visitor quotes if they write in by email later.
        if (conversation.number) subtitle = this.t("conversation_number", { number: conversation.number });
        if (ENDED_STATUSES.has(conversation.status)) {
          status = this.t("ended");
        } else if (conversation.assignee_name) {
          status = this.t("assigned", { name: conversation.assignee_name });
        } else if (this.queue && Number.isFinite(this.queue.position) && this.queue.position > 0) {
          const seconds = this.queue.expected_wait_seconds;
          status =
            typeof seconds === "number"
              ? this.t("queue_position", { position: this.queue.position, wait: this.waitText(seconds) })
              : this.t("queue_position_only", { position: this.queue.position });
        } else {
          status = this.t("waiting");
        }
      }
      this.subtitleNode.textContent = subtitle;
      this.statusNode.textContent = status;
      this.statusNode.hidden = !status || this.view !== "chat";
    }

    // ---------------------------------------------------------------- forms

    field(id, label, control, required) {
      control.id = id;
      if (required) control.required = true;
      return h("div", { class: "hl-field" }, h("label", { for: id }, label + (required ? " *" : "")), control);
    }

    topicSelect(id) {
      if (!this.config.topics.length) return null;
      const select = h(
        "select",
        { name: "topic" },
        h("option", { value: "" }, this.t("topic_choose")),
        this.config.topics.map((topic) => h("option", { value: topic.category }, topic.label)),
      );
      return this.field(id, this.t("topic"), select, false);
    }

    personFields(prefix) {
      const known = { ...(this.contact || {}), ...this.env.identity };
      const nodes = [];
      const name = this.config.nameField;
      const email = this.config.emailField;
      if (name.show && !this.env.identity.name) {
        nodes.push(
          this.field(prefix + "-name", this.t("name"), h("input", { name: "name", autocomplete: "name", maxlength: "200", value: known.name || "" }), name.required),
        );
      }
      if (email.show && !this.env.identity.email) {
        nodes.push(
          this.field(prefix + "-email", this.t("email"), h("input", { name: "email", type: "email", autocomplete: "email", maxlength: "254", value: known.email || "" }), email.required),
        );
      }
      return nodes;
    }

    formValues(form) {
      const values = {};
      for (const control of form.querySelectorAll("input, select, textarea")) {
        if (control.name) values[control.name] = control.value.trim();
      }
      return values;
    }

    formProblem(form) {
      for (const control of form.querySelectorAll("input, select, textarea")) {
        if (control.required && !control.value.trim()) return this.t("required_missing");
        if (control.type === "email" && control.value.trim() && !control.checkValidity()) {
          return this.t("email_invalid");
        }
      }
      return null;
    }

    prechatView() {
      const error = h("p", { class: "hl-form-error", role: "alert", hidden: true });
      const submit = h("button", { class: "hl-primary", type: "submit" }, this.t("start"));
      const form = h(
        "form",
        { class: "hl-form", novalidate: true },
        this.personFields("hl-pre"),
        this.topicSelect("hl-pre-topic"),
        this.field("hl-pre-message", this.t("message"), h("textarea", { name: "message", rows: "3", maxlength: "5000" }), true),
        error,
        submit,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const problem = this.formProblem(form);
        error.hidden = !problem;
        error.textContent = problem || "";
        if (problem) return;
        submit.disabled = true;
        submit.textContent = this.t("starting");
        try {
          await this.startConversation(this.formValues(form));
        } catch (failure) {
          error.textContent = this.explain(failure);
          error.hidden = false;
          submit.disabled = false;
          submit.textContent = this.t("start");
        }
      });
      return h(
        "div",
        { class: "hl-scroll" },
        h("p", { class: "hl-intro" }, this.config.greeting || this.t("greeting")),
        h("p", { class: "hl-intro" }, this.t("prechat_intro")),
        selfServiceView(this),
        attachSuggestions(this, form),
      );
    }

    offlineView() {
      const error = h("p", { class: "hl-form-error", role: "alert", hidden: true });
      const submit = h("button", { class: "hl-primary", type: "submit" }, this.t("offline_send"));
      const form = h(
        "form",
        { class: "hl-form", novalidate: true },
        this.personFields("hl-off"),
        this.topicSelect("hl-off-topic"),
        this.field("hl-off-message", this.t("message"), h("textarea", { name: "message", rows: "4", maxlength: "5000" }), true),
        error,
        submit,
      );
      // Offline messages are answered by email, so the address is always asked for.
      const emailInput = form.querySelector('input[name="email"]');
      if (emailInput) {
        emailInput.required = true;
        const label = form.querySelector('label[for="hl-off-email"]');
        if (label && !label.textContent.endsWith("*")) label.textContent += " *";
      }
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const problem = this.formProblem(form);
        error.hidden = !problem;
        error.textContent = problem || "";
        if (problem) return;
        submit.disabled = true;
        const values = this.formValues(form);
        const identity = this.env.identity;
        try {
          const answer = await this.api.post(
            "offline",
            {
              name: values.name || identity.name || (this.contact && this.contact.name) || "",
              email: values.email || identity.email || (this.contact && this.contact.email) || "",
              message: values.message,
              topic_category: values.topic || undefined,
              locale: this.locale, // the expected-reply text and the ticket's language
            },
            { auth: !!this.store.data.token },
          );
          this.offlineAnswer = (answer && answer.expected_reply) || "";
          this.setView("offline_sent");
        } catch (failure) {
          error.textContent = this.explain(failure);
          error.hidden = false;
          submit.disabled = false;
        }
      });
      return h(
        "div",
        { class: "hl-scroll" },
        h("h3", { class: "hl-intro" }, this.t("offline_title")),
        h("p", { class: "hl-intro" }, this.config.offlineMessage || this.t("offline_intro")),
        attachSuggestions(this, form),
      );
    }

    offlineSentView() {
      return h(
        "div",
        { class: "hl-scroll" },
        h("p", { class: "hl-done", role: "status" }, this.t("offline_sent")),
        this.offlineAnswer || this.config.expectedReply
          ? h("p", { class: "hl-intro" }, this.offlineAnswer || this.config.expectedReply)
          : null,
      );
    }

    explain(failure) {
      if (failure instanceof ApiError) {
        if (failure.status === 429) return this.t("rate_limited");
        if (failure.status === 422 && failure.message) return failure.message;
      }
      return this.t("error_generic");
    }

    // ---------------------------------------------------------------- conversation

    async startConversation(values) {
      await this.startSession({ name: values.name, email: values.email });
      const conversation = await this.api.post("conversations", {
        topic_category: values.topic || undefined,
        message: values.message,
        client_message_id: randomId(),
        locale: this.locale, // the FAQ bot answers in it
      });
      helpChatStarted(this);
      await this.enterConversation(conversation);
    }

    async enterConversation(conversation) {
      this.conversation = conversation;
      this.queue = conversation.queue || null;
      this.cursor = 0;
      this.agentReadSeq = Number(conversation.agent_read_seq) || 0;
      this.pending = (this.store.data.pending || []).filter(
        (item) => item.conversation_id === conversation.id,
      );
      this.store.set({ conversation_id: conversation.id, fresh: false });
      this.setView("chat");
      await this.loadHistory();
      for (const item of this.pending) this.renderPending(item);
      this.renderEnded();
      if (this.connection.isOpen) this.subscribe();
      else this.connection.start();
      this.retryPending();
    }

    /** The whole visible history from the start (first load, or after a resync). */
    async loadHistory() {
      const conversation = this.conversation;
      let after = 0;
      for (let page = 0; page < 50; page += 1) {
        const answer = await this.api.get(`conversations/${conversation.id}/history`, {
          query: { after_seq: after },
        });
        if (conversation !== this.conversation) return;
        for (const item of (answer && answer.events) || []) this.applyEvent(item);
        // Internal entries are skipped, so last_seq may lie beyond the last event.
        this.cursor = Math.max(this.cursor, Number(answer && answer.last_seq) || 0);
        const next = answer && answer.next_after_seq;
        if (next === null || next === undefined || Number(next) <= after) break;
        after = Number(next);
      }
      this.scrollToEnd();
    }

    subscribe() {
      if (!this.conversation) return;
      this.connection.send({
        type: "subscribe",
        conversation_id: this.conversation.id,
        after_seq: this.cursor,
      });
    }

    onSocketOpen() {
      this.subscribe();
      this.retryPending();
    }

    onConnectionState() {
      this.renderConnectionBanner();
    }

    onFatalClose() {
      // The server refused this token (expired): a signed-in customer gets their
      // history back through a new session; an anonymous visitor starts over.
      this.store.forgetSession();
      this.pending = [];
      if (this.env.identity.external_id) {
        this.restore().then(() => this.connection.start());
      } else {
        this.showStartView();
      }
      return true;
    }

    onFrame(frame) {
      const conversation = this.conversation;
      const forThis =
        conversation && (frame.conversation_id === undefined || frame.conversation_id === conversation.id);
      switch (frame.type) {
        case "event":
          if (forThis) this.applyEvent(frame);
          // The event of a message sent on this socket is also its acknowledgement.
          if (frame.ack) this.acknowledge(frame.ack.client_message_id, frame.seq, null);
          break;
        case "ack":
          this.acknowledge(frame.client_message_id, frame.seq, frame.message);
          break;
        case "resync":
          if (forThis) this.resync();
          break;
        case "queue":
          if (forThis) {
            this.queue = { position: frame.position, expected_wait_seconds: frame.expected_wait_seconds };
            this.renderStatus();
          }
          break;
        case "typing":
          if (forThis && frame.who !== "visitor" && frame.who !== "contact") this.showAgentTyping(frame);
          break;
        case "read":
          if (forThis && frame.by !== "visitor" && frame.by !== "contact") {
            this.agentReadSeq = Math.max(this.agentReadSeq, Number(frame.seq) || 0);
            this.renderReceipts();
          }
          break;
        case "error":
          this.onErrorFrame(frame);
          break;
        case "hello":
          if (frame.contact && typeof frame.contact === "object") {
            this.contact = frame.contact;
            const input = this.transcriptEmail;
            if (input && input.isConnected && !input.value) input.value = this.contact.email || "";
          }
          break;
        default:
          break; // pong, and frame types newer than this script
      }
    }

    async resync() {
      const draft = this.textarea ? this.textarea.value : "";
      this.cursor = 0;
      this.setView("chat");
      this.textarea.value = draft;
      try {
        await this.loadHistory();
        for (const item of this.pending) this.renderPending(item);
        this.renderEnded();
        this.subscribe();
      } catch {
        this.flash(this.t("error_generic"), true);
      }
    }

    /** One history entry, from the history endpoint or a live frame. Entries the
        log already shows (a replay after reconnect) are skipped, so each appears once. */
    applyEvent(frame) {
      const seq = Number(frame.seq) || 0;
      const event = frame.event || {};
      // Each entry once: replays at or below the cursor are skipped, and so is an
      // own message already shown from its ack.
      if (!seq || seq <= this.cursor) return;
      this.cursor = seq;
      if (this.shown.has(seq)) return;
      if (event.type === "message.created" && event.message && typeof event.message === "object") {
        this.settlePending(event.message.client_message_id);
        this.renderMessage(seq, event.message);
      } else if (event.type === "conversation.updated") {
        this.updateConversation(event);
        this.renderChange(seq, event);
      }
    }

    /** A `conversation.updated` entry carries only what changed. */
    updateConversation(change) {
      const conversation = this.conversation;
      const before = conversation.status;
      if (typeof change.status === "string") conversation.status = change.status;
      if (Object.prototype.hasOwnProperty.call(change, "assignee_name")) {
        conversation.assignee_name = change.assignee_name || null;
      }
      if (conversation.assignee_name || conversation.status !== "open") this.queue = null;
      this.renderStatus();
      if (before !== conversation.status) this.renderEnded();
    }

    // ---------------------------------------------------------------- the log

    chatView() {
      this.log = h("ol", { class: "hl-log", role: "log", "aria-live": "polite" });
      this.scroller = h("div", { class: "hl-scroll" }, this.log);
      this.typingNode = h("div", { class: "hl-typing", "aria-live": "polite" });
      this.textarea = h("textarea", {
        rows: "1",
        placeholder: this.t("placeholder"),
        "aria-label": this.t("message"),
        maxlength: "5000",
      });
      this.fileInput = h("input", { type: "file", hidden: true, tabindex: "-1" });
      this.fileInput.addEventListener("change", () => {
        const files = Array.from(this.fileInput.files || []);
        this.fileInput.value = "";
        for (const file of files) this.upload(file);
      });
      if (this.config.allowedTypes.length) this.fileInput.accept = this.config.allowedTypes.join(",");
      const attach = h(
        "button",
        { class: "hl-icon-button", type: "button", "aria-label": this.t("attach"), title: this.t("attach"), onclick: () => this.fileInput.click() },
        icon("attach"),
      );
      const send = h(
        "button",
        { class: "hl-icon-button hl-send", type: "submit", "aria-label": this.t("send"), title: this.t("send") },
        icon("send"),
      );
      this.composer = h("form", { class: "hl-composer" }, this.fileInput, attach, this.textarea, send);
      this.composer.addEventListener("submit", (event) => {
        event.preventDefault();
        this.sendFromComposer();
      });
      this.textarea.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.sendFromComposer();
        }
      });
      this.textarea.addEventListener("input", () => this.onTyping());
      return [this.scroller, this.typingNode, this.composer];
    }

    scrollToEnd() {
      if (this.scroller) this.scroller.scrollTop = this.scroller.scrollHeight;
    }

    /** Put a log entry in sequence order; unsent messages stay below everything. */
    place(node, seq) {
      node.dataset.seq = String(seq);
      let before = null;
      for (const child of this.log.children) {
        const other = Number(child.dataset.seq || Infinity);
        if (child.dataset.pending !== undefined || other > seq) {
          before = child;
          break;
        }
      }
      this.log.insertBefore(node, before);
    }

    renderMessage(seq, message) {
      if (!this.log || !seq || this.shown.has(seq)) return;
      if (message.kind && message.kind !== "reply") return; // internal notes never reach visitors
      const mine = (message.author || message.author_type) === "contact";
      const node = h(
        "li",
        { class: "hl-msg " + (mine ? "hl-msg-mine" : "hl-msg-agent") },
        mine ? null : h("span", { class: "hl-author" }, message.author_name || this.t("agent")),
        message.body ? h("div", { class: "hl-bubble" }, linkified(message.body)) : null,
        (message.attachments || []).map((attachment) => this.attachmentNode(attachment)),
        h("span", { class: "hl-meta" }, this.timeText(message.created_at)),
      );
      if (mine) node.dataset.mine = "";
      this.shown.set(seq, node);
      this.place(node, seq);
      botMessageShown(this, node, message); // FAQ bot buttons (AI assist)
      if (!mine) {
        if (!this.isOpen || document.visibilityState !== "visible") {
          this.unread += 1;
          this.renderBadge();
        } else {
          this.markRead();
        }
        this.hideAgentTyping();
      }
      this.renderReceipts();
      this.scrollToEnd();
    }

    /** The few changes a visitor cares about, as a quiet line in the log. */
    renderChange(seq, change) {
      if (!this.log || this.shown.has(seq)) return;
      let text = "";
      const kind = change.change;
      if ((kind === "assigned" || kind === "transferred") && change.assignee_name) {
        text = this.t("joined", { name: change.assignee_name });
      } else if (kind === "status_changed" && change.status === "solved") text = this.t("solved");
      else if ((kind === "status_changed" && change.status === "closed") || kind === "auto_closed") {
        text = this.t("ended");
      } else if (kind === "reopened") text = this.t("reopened");
      if (!text) return;
      const node = h("li", { class: "hl-system" }, text);
      this.shown.set(seq, node);
      this.place(node, seq);
    }

    timeText(iso) {
      const moment = iso ? new Date(iso) : new Date();
      if (Number.isNaN(moment.getTime())) return "";
      return new Intl.DateTimeFormat(this.formatLocale, { hour: "2-digit", minute: "2-digit" }).format(moment);
    }

    attachmentNode(attachment) {
      const name = attachment.name || attachment.filename || "file";
      const mime = attachment.mime || attachment.content_type || "";
      const href = attachment.url || `attachments/${attachment.id}`;
      const link = h("a", { class: "hl-file-link", href: "#", download: name }, `${this.t("download")}: ${name}`);
      if (attachment.size) link.append(` (${formatBytes(attachment.size)})`);
      link.addEventListener("click", async (event) => {
        event.preventDefault();
        try {
          const url = await this.objectUrl(href);
          const save = h("a", { href: url, download: name, hidden: true });
          this.shadow.append(save);
          save.click();
          save.remove();
        } catch (failure) {
          this.flash(this.explain(failure), true);
        }
      });
      const box = h("div", { class: "hl-attachment" });
      if (attachment.image || /^image\/(png|jpe?g|gif|webp)$/i.test(mime)) {
        const image = h("img", { alt: name });
        this.objectUrl(href)
          .then((url) => (image.src = url))
          .catch(() => image.remove());
        box.append(image);
      }
      box.append(link);
      return box;
    }

    async objectUrl(href) {
      if (!this.blobCache.has(href)) {
        this.blobCache.set(
          href,
          this.api.blob(href).then((blob) => URL.createObjectURL(blob)),
        );
      }
      try {
        return await this.blobCache.get(href);
      } catch (failure) {
        this.blobCache.delete(href);
        throw failure;
      }
    }

    /** "Read" under the newest of the visitor's messages the agent has seen. */
    renderReceipts() {
      if (!this.log) return;
      let newestRead = null;
      for (const [seq, node] of this.shown) {
        if (node.dataset.mine === undefined) continue;
        const meta = node.querySelector(".hl-meta");
        if (meta && meta.dataset.time === undefined) meta.dataset.time = meta.textContent;
        if (meta) meta.textContent = meta.dataset.time;
        if (seq <= this.agentReadSeq && (!newestRead || seq > newestRead.seq)) newestRead = { seq, meta };
      }
      if (newestRead && newestRead.meta) {
        newestRead.meta.textContent = `${newestRead.meta.dataset.time} · ${this.t("read")}`;
      }
    }

    renderEnded() {
      if (!this.log || !this.conversation) return;
      const ended = ENDED_STATUSES.has(this.conversation.status);
      if (this.endedNode) {
        this.endedNode.remove();
        this.endedNode = null;
      }
      // Writing again reopens a solved conversation; a closed one is read-only.
      this.composer.hidden = this.conversation.status === "closed";
      if (!ended) return;
      this.endedNode = this.endedView();
      this.scroller.append(this.endedNode);
      this.scrollToEnd();
    }

    endedView() {
      const conversation = this.conversation;
      const done = this.store.data.done || {};
      const record = done[conversation.id] || {};
      const remember = (values) => {
        const all = this.store.data.done || {};
        all[conversation.id] = { ...(all[conversation.id] || {}), ...values };
        this.store.set({ done: all });
      };

      const transcriptBox = h("div", { class: "hl-form" });
      if (record.transcript) {
        transcriptBox.append(h("p", { class: "hl-done" }, this.t("transcript_sent", { email: record.transcript })));
      } else {
        const knownEmail = this.env.identity.email || (this.contact && this.contact.email) || "";
        const email = h("input", { name: "email", type: "email", value: knownEmail, autocomplete: "email" });
        this.transcriptEmail = email;
        const error = h("p", { class: "hl-form-error", role: "alert", hidden: true });
        const send = h("button", { class: "hl-secondary", type: "submit" }, this.t("transcript_send"));
        const form = h("form", { class: "hl-form", novalidate: true }, this.field("hl-transcript-email", this.t("transcript_label"), email, true), error, send);
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          const problem = this.formProblem(form);
          if (problem) {
            error.textContent = problem;
            error.hidden = false;
            return;
          }
          send.disabled = true;
          try {
            await this.api.post(`conversations/${conversation.id}/transcript`, { email: email.value.trim() });
            remember({ transcript: email.value.trim() });
            form.replaceWith(h("p", { class: "hl-done", role: "status" }, this.t("transcript_sent", { email: email.value.trim() })));
          } catch (failure) {
            error.textContent = this.explain(failure);
            error.hidden = false;
            send.disabled = false;
          }
        });
        transcriptBox.append(form);
      }

      const csatBox = h("div", { class: "hl-form" });
      if (record.csat || conversation.csat) {
        csatBox.append(h("p", { class: "hl-done" }, this.t("csat_thanks")));
      } else {
        let score = 0;
        const stars = [1, 2, 3, 4, 5].map((value) =>
          h(
            "button",
            {
              class: "hl-star",
              type: "button",
              "aria-pressed": "false",
              "aria-label": this.t("csat_score", { n: value }),
              onclick: () => {
                score = value;
                for (const star of stars) star.setAttribute("aria-pressed", String(Number(star.textContent) <= value));
                submit.disabled = false;
              },
            },
            String(value),
          ),
        );
        let nps = null;
        const npsButtons = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((value) =>
          h(
            "button",
            {
              class: "hl-nps",
              type: "button",
              "aria-pressed": "false",
              "aria-label": this.t("nps_score", { n: value }),
              onclick: () => {
                nps = nps === value ? null : value; // a second click takes it back
                for (const button of npsButtons) button.setAttribute("aria-pressed", String(Number(button.textContent) === nps));
              },
            },
            String(value),
          ),
        );
        const npsQuestion = this.config.askNps
          ? h(
              "div",
              { class: "hl-nps-question" },
              h("p", { id: "hl-nps-question", class: "hl-label" }, this.t("nps_question")),
              h("div", { class: "hl-nps-scale", role: "group", "aria-labelledby": "hl-nps-question", "aria-describedby": "hl-nps-hint" }, npsButtons),
              h("p", { id: "hl-nps-hint", class: "hl-hint" }, this.t("nps_scale")),
            )
          : null;
        const comment = h("textarea", { name: "comment", rows: "2", maxlength: "2000" });
        const error = h("p", { class: "hl-form-error", role: "alert", hidden: true });
        const submit = h("button", { class: "hl-primary", type: "submit", disabled: true }, this.t("csat_send"));
        const form = h(
          "form",
          { class: "hl-form", novalidate: true },
          h("h3", { id: "hl-csat-question" }, this.t("csat_question")),
          h("div", { class: "hl-stars", role: "group", "aria-labelledby": "hl-csat-question" }, stars),
          this.field("hl-csat-comment", this.t("csat_comment"), comment, false),
          npsQuestion,
          error,
          submit,
        );
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          if (!score) return;
          submit.disabled = true;
          try {
            const body = { score };
            if (comment.value.trim()) body.comment = comment.value.trim();
            if (nps !== null) body.nps_score = nps;
            await this.api.post(`conversations/${conversation.id}/csat`, body);
            remember({ csat: score });
            form.replaceWith(h("p", { class: "hl-done", role: "status" }, this.t("csat_thanks")));
          } catch (failure) {
            error.textContent = this.explain(failure);
            error.hidden = false;
            submit.disabled = false;
          }
        });
        csatBox.append(form);
      }

      const again = h("button", { class: "hl-secondary", type: "button", onclick: () => this.newConversation() }, this.t("new_chat"));
      return h("div", { class: "hl-ended" }, h("h3", {}, this.t("ended")), transcriptBox, csatBox, again);
    }

    newConversation() {
      if (this.conversation) {
        this.connection.send({ type: "unsubscribe", conversation_id: this.conversation.id });
      }
      this.store.set({ conversation_id: null, fresh: true });
      this.showStartView();
    }

    // ---------------------------------------------------------------- sending

    sendFromComposer() {
      const body = this.textarea.value.trim();
      if (!body || !this.conversation) return;
      this.textarea.value = "";
      this.sendTyping(false);
      const item = {
        client_message_id: randomId(),
        conversation_id: this.conversation.id,
        body,
        created_at: new Date().toISOString(),
        attempts: 0,
      };
      this.pending.push(item);
      this.savePending();
      this.renderPending(item);
      this.deliver(item);
    }

    savePending() {
      const others = (this.store.data.pending || []).filter(
        (item) => !this.conversation || item.conversation_id !== this.conversation.id,
      );
      this.store.set({ pending: others.concat(this.pending.map(({ node, timer, ...item }) => item)) });
    }

    renderPending(item) {
      if (!this.log) return;
      if (item.node) item.node.remove();
      item.node = h(
        "li",
        { class: "hl-msg hl-msg-mine", "data-pending": "" },
        h("div", { class: "hl-bubble" }, linkified(item.body)),
        h("span", { class: "hl-meta" }, item.failed ? this.t("failed") : item.attempts > 1 ? this.t("retrying") : this.t("sending")),
      );
      if (item.failed) item.node.classList.add("hl-msg-failed");
      this.log.append(item.node);
      this.scrollToEnd();
    }

    /** Over the WebSocket when it is up, else over HTTP. Either way the same
        client_message_id, so a retry after a lost answer never stores twice. */
    deliver(item) {
      if (item.failed || item.sending) return;
      item.attempts += 1;
      if (item.attempts > 1 && item.node) this.renderPending(item);
      clearTimeout(item.timer);
      const frame = {
        type: "message",
        conversation_id: item.conversation_id,
        body: item.body,
        client_message_id: item.client_message_id,
      };
      if (this.connection.send(frame)) {
        // No ack in time: the socket is probably dead; try again over HTTP.
        item.timer = setTimeout(() => this.deliverOverHttp(item), 8000);
      } else {
        this.deliverOverHttp(item);
      }
    }

    async deliverOverHttp(item) {
      if (!this.pending.includes(item) || item.sending) return;
      item.sending = true;
      try {
        const answer = await this.api.post(`conversations/${item.conversation_id}/messages`, {
          body: item.body,
          client_message_id: item.client_message_id,
        });
        item.sending = false;
        this.acknowledge(item.client_message_id, answer && answer.seq, answer && answer.message);
      } catch (failure) {
        item.sending = false;
        if (failure instanceof ApiError && failure.status !== 429 && failure.status < 500) {
          item.failed = true; // refused for good (too long, conversation closed): say so
          this.renderPending(item);
          this.flash(this.explain(failure), true);
          this.savePending();
          return;
        }
        if (failure instanceof ApiError && failure.status === 429) this.flash(this.t("rate_limited"), true);
        const wait = failure instanceof ApiError && failure.retryAfter ? failure.retryAfter * 1000 : Math.min(30000, 1000 * 2 ** item.attempts);
        if (item.node) this.renderPending(item);
        clearTimeout(item.timer);
        item.timer = setTimeout(() => this.deliver(item), wait);
      }
    }

    retryPending() {
      for (const item of this.pending) {
        if (!item.sending && !item.failed) this.deliver(item);
      }
    }

    /** The server stored a message: the pending copy gives way to the real one. */
    acknowledge(clientMessageId, seq, message) {
      const item = this.pending.find((entry) => entry.client_message_id === clientMessageId);
      if (message && typeof message === "object" && seq) {
        this.settlePending(clientMessageId);
        this.renderMessage(Number(seq), message);
        return;
      }
      if (!item) return;
      if (seq && !this.shown.has(Number(seq))) {
        this.renderMessage(Number(seq), {
          author: "contact",
          body: item.body,
          created_at: item.created_at,
          attachments: [],
        });
      }
      this.settlePending(clientMessageId);
    }

    settlePending(clientMessageId) {
      if (!clientMessageId) return;
      const index = this.pending.findIndex((entry) => entry.client_message_id === clientMessageId);
      if (index < 0) return;
      const [item] = this.pending.splice(index, 1);
      clearTimeout(item.timer);
      if (item.node) item.node.remove();
      this.savePending();
    }

    onErrorFrame(frame) {
      const item = frame.client_message_id
        ? this.pending.find((entry) => entry.client_message_id === frame.client_message_id)
        : null;
      if (frame.code === "rate_limited") {
        this.flash(this.t("rate_limited"), true);
        if (item) {
          clearTimeout(item.timer);
          const details = frame.details || {};
          const seconds = Number(details.retry_after_seconds || frame.retry_after) || 2;
          item.timer = setTimeout(() => this.deliver(item), seconds * 1000);
        }
        return;
      }
      if (item) {
        clearTimeout(item.timer);
        item.failed = true;
        this.renderPending(item);
        this.savePending();
      }
      this.flash(frame.message || this.t("error_generic"), true);
    }

    async upload(file) {
      if (!this.conversation) return;
      const limit = this.config.maxBytes;
      if (limit && file.size > limit) {
        this.flash(this.t("file_too_large", { name: file.name, size: formatBytes(limit) }), true);
        return;
      }
      if (!typeAllowed(file.type, this.config.allowedTypes)) {
        this.flash(this.t("file_type", { name: file.name }), true);
        return;
      }
      const node = h(
        "li",
        { class: "hl-msg hl-msg-mine", "data-pending": "" },
        h("div", { class: "hl-bubble" }, this.t("uploading", { name: file.name })),
      );
      this.log.append(node);
      this.scrollToEnd();
      const form = new FormData();
      form.append("file", file, file.name);
      form.append("client_message_id", randomId());
      try {
        const answer = await this.api.request("POST", `conversations/${this.conversation.id}/attachments`, { form });
        if (answer && answer.message && answer.seq) this.renderMessage(Number(answer.seq), answer.message);
      } catch (failure) {
        this.flash(this.explain(failure), true);
      } finally {
        node.remove();
      }
    }

    // ---------------------------------------------------------------- typing, read state

    onTyping() {
      if (!this.conversation) return;
      const now = Date.now();
      if (now - this.lastTypingSentAt > 3000) this.sendTyping(true);
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.sendTyping(false), 4000);
    }

    sendTyping(active) {
      if (!this.conversation) return;
      clearTimeout(this.typingTimer);
      if (!active && !this.lastTypingSentAt) return;
      this.lastTypingSentAt = active ? Date.now() : 0;
      this.connection.send({ type: "typing", conversation_id: this.conversation.id, active });
    }

    showAgentTyping(frame) {
      if (!this.typingNode) return;
      clearTimeout(this.agentTypingTimer);
      if (!frame.active) {
        this.hideAgentTyping();
        return;
      }
      const name = frame.name || (this.conversation && this.conversation.assignee_name) || this.t("agent");
      this.typingNode.textContent = this.t("typing", { name });
      // A lost "stopped typing" frame must not leave the indicator on forever.
      this.agentTypingTimer = setTimeout(() => this.hideAgentTyping(), 6000);
    }

    hideAgentTyping() {
      clearTimeout(this.agentTypingTimer);
      if (this.typingNode) this.typingNode.textContent = "";
    }

    markRead() {
      if (!this.conversation || !this.isOpen || document.visibilityState !== "visible") return;
      let newest = 0;
      for (const [seq, node] of this.shown) if (node.dataset.mine === undefined && seq > newest) newest = seq;
      if (newest > this.visitorReadSeq) {
        if (this.connection.send({ type: "read", conversation_id: this.conversation.id, seq: newest })) {
          this.visitorReadSeq = newest;
        }
      }
    }
  }

  // ------------------------------------------------------------------ boot

  const source = new URL(script.src, document.baseURI);
  const settings = window.HelplineSettings || {};
  const data = script.dataset;
  const identity = {
    external_id: settings.external_id || data.externalId || "",
    identifier_hash: settings.identifier_hash || data.identifierHash || "",
    name: settings.name || data.name || "",
    email: settings.email || data.email || "",
  };
  const publicKey = data.inbox;
  const apiBase = new URL(`/api/v1/widget/${encodeURIComponent(publicKey)}/`, source.origin).href;
  const socketBase = new URL(`/api/v1/widget/${encodeURIComponent(publicKey)}/ws`, source.origin);
  socketBase.protocol = source.protocol === "https:" ? "wss:" : "ws:";

  const widget = new Widget({
    publicKey,
    apiBase,
    socketBase: socketBase.href,
    cssUrl: new URL("widget.css", source).href,
    locale: settings.locale || data.locale || "",
    openAtStart: settings.open === true || data.open === "true",
    color: settings.color || data.color || "",
    position: settings.position || data.position || "",
    identity,
  });
  window.__helplineWidget = widget;
  window.Helpline = {
    open: () => widget.open(),
    close: () => widget.close(),
  };
  document.addEventListener("visibilitychange", () => widget.markRead());

  const start = () => widget.boot().catch((error) => console.error("Helpline widget:", error));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
