/**
 * The reason dialog is opened without a Radix trigger, so Radix cannot give focus back on
 * close: return it to the button that opened the dialog, if that button is still there.
 */
export function returnFocus(element: HTMLElement | null): void {
  setTimeout(() => {
    if (element?.isConnected) element.focus();
  }, 0);
}
