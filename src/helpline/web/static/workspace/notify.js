// Optional notifications for a new chat or a customer reply in a background pane:
// a short tone (Web Audio, no sound file to load) and a browser notification.
// Both are off until the agent switches them on; the choice is stored server-side.

let audio = null;

export const settings = { sound: false, desktop: false };

export function beep() {
  if (!settings.sound) return;
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.3);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.32);
  } catch {
    // No audio device: the visual badge still tells the agent.
  }
}

export async function askDesktopPermission() {
  if (!("Notification" in window)) return false;
  if (Notification.permission === "granted") return true;
  if (Notification.permission === "denied") return false;
  return (await Notification.requestPermission()) === "granted";
}

export function desktop(title, body, onClick) {
  if (!settings.desktop || !("Notification" in window) || Notification.permission !== "granted") return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  const notification = new Notification(title, { body, tag: title });
  notification.addEventListener("click", () => {
    window.focus();
    onClick();
    notification.close();
  });
}
