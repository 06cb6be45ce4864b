// Type declarations for the Halo widget's JS API (`window.Halo`).
// Every call may be made before the widget has loaded: calls are queued and replayed in order.

export interface HaloBootOptions {
  /** The workspace's org id (a UUID). */
  orgId: string;
  /** The publishable widget key, `ab_live_…`. Safe to put in a page. */
  widgetKey: string;
  /** Where the Halo API lives. Default: the origin the widget script was loaded from. */
  apiBase?: string;
  ui?: {
    /**
     * Open the panel when a teammate replies while it is closed. Default false: the launcher
     * shows an unread dot instead (it survives a reload).
     */
    autoOpenUnseen?: boolean;
    /** The brand colour (`#rrggbb`), over the workspace's (Settings > Widget). */
    brandColor?: string;
    /** Which bottom corner the launcher sits in, over the workspace's. */
    position?: "right" | "left";
    /** The panel header's title, over the workspace's. */
    title?: string;
    /** The panel's greeting, over the workspace's. */
    greeting?: string;
    /** The language of the widget's own words (`en`, `fr`, `es`, `de`; others fall back to English). */
    locale?: string;
    /** Paths where the panel never opens by itself; `*` matches anything, e.g. "/checkout*". */
    manualOnPaths?: string[];
  };
}

/** Who the user is. Extra keys are sent as traits (custom_fields). */
export interface HaloUser {
  user_id: string;
  /** An HS256 JWT signed with the workspace's identity secret, with a matching `user_id` claim. */
  user_token?: string;
  email?: string;
  name?: string;
  role?: string;
  plan?: string;
  signed_up_at?: string | number;
  company_id?: string;
  [trait: string]: string | number | boolean | undefined;
}

export interface HaloCompany {
  company_id: string;
  name?: string;
  plan?: string;
  industry?: string;
  [trait: string]: string | number | boolean | undefined;
}

export type HaloContextType =
  | "list" | "integration" | "error" | "status" | "config"
  | "feature" | "metric" | "relationship" | "custom";

export interface HaloContextEntry {
  label: string;
  type?: HaloContextType;
  value: unknown;
}

export interface HaloApi {
  (command: "boot", options: HaloBootOptions): void;
  (command: "identify", user: HaloUser): void;
  (command: "identifyCompany", company: HaloCompany): void;
  (command: "setContext", entries: Record<string, HaloContextEntry>): void;
  (command: "open" | "close" | "toggle" | "shutdown" | "reset"): void;
  /** Present while calls are queued before the widget loads. */
  q?: IArguments[];
  /** The snippet's version. */
  v?: number;
  /** True once the widget has loaded and replaced the queue. */
  loaded?: boolean;
}

declare global {
  interface Window {
    Halo: HaloApi;
  }
}
