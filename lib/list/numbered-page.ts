/** One page of a list read by page number (Alerts, Disputes, Providers): its rows and where it stands. */
export type TNumberedPage<TItem> = {
  items: TItem[];
  /** Rows matching the filter. */
  total: number;
  page: number;
  pageSize: number;
};
