// s3rver ships no types; this covers what the tests use.
declare module "s3rver" {
  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory?: string;
    serviceEndpoint?: string;
    configureBuckets?: { name: string; configs: string[] }[];
    key?: string | Buffer;
    cert?: string | Buffer;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
