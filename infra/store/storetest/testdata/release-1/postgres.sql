--
-- PostgreSQL database dump
--

\restrict dP3phk0CZLWUEAcJyHV3ADtVkcnDSEWhHdphXemjTJZrp7CqZUaBL4ifUaekvBs

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: aliases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.aliases (
    name text NOT NULL COLLATE pg_catalog."C",
    key_id text NOT NULL COLLATE pg_catalog."C",
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: key_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.key_versions (
    key_id text NOT NULL COLLATE pg_catalog."C",
    version_id text NOT NULL COLLATE pg_catalog."C",
    seq bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    wrapped bytea NOT NULL
);


--
-- Name: key_versions_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.key_versions ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.key_versions_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.keys (
    id text NOT NULL COLLATE pg_catalog."C",
    description text NOT NULL,
    key_spec text NOT NULL,
    key_usage text NOT NULL,
    origin text NOT NULL,
    protection_level text NOT NULL,
    creator text NOT NULL,
    state text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    delete_at timestamp with time zone,
    primary_version_id text NOT NULL,
    automatic_rotation boolean NOT NULL,
    rotation_interval bigint NOT NULL,
    last_rotated_at timestamp with time zone,
    revision bigint NOT NULL
);


--
-- Name: partitions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.partitions (
    id text NOT NULL COLLATE pg_catalog."C",
    key_id text NOT NULL,
    key_version_id text NOT NULL,
    ciphertext_blob bytea NOT NULL,
    encryption_context json,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Data for Name: aliases; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.aliases VALUES ('alias/release-1/app', 'key-odcefop26nmxly2wnfub2soi', '2026-01-05 09:30:00+00', '2026-01-05 09:30:00+00');
INSERT INTO public.aliases VALUES ('alias/release-1/disabled', 'key-nfhhxxkqbiar47j3orahcki4', '2026-01-13 10:32:00+00', '2026-01-13 10:32:00+00');
INSERT INTO public.aliases VALUES ('alias/release-1/plain', 'key-cgkkdqutm7mlwqjvcsn6wn4n', '2026-01-13 10:31:00+00', '2026-01-13 10:31:00+00');
INSERT INTO public.aliases VALUES ('alias/release-1/second-name', 'key-odcefop26nmxly2wnfub2soi', '2026-01-05 09:30:00+00', '2026-01-05 09:30:00+00');


--
-- Data for Name: key_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.key_versions OVERRIDING SYSTEM VALUE VALUES ('key-odcefop26nmxly2wnfub2soi', 'a0d2b1ea-c141-4d4b-9f5c-5fd36c4a8b9a', 1, '2026-01-05 09:30:00+00', '\x17090317616f29c931c12b8412a92b0f1c1b9c33ea1bc2b890593c1b78fabc72ad4de75959476a95b31fa65343bafa5bf0e85b8538c58cc1079f3809');
INSERT INTO public.key_versions OVERRIDING SYSTEM VALUE VALUES ('key-odcefop26nmxly2wnfub2soi', '8451622a-1e10-4651-b779-6133ef4e25e5', 2, '2026-01-05 10:30:00+00', '\x37ef8085f9bad562a007f4b395c5d1b10e88a2f2c69e88dfd3d5c98e6180b57828c10efe27b1bcbdbfab290bb76873793b21111c80782aad3a92ba86');
INSERT INTO public.key_versions OVERRIDING SYSTEM VALUE VALUES ('key-odcefop26nmxly2wnfub2soi', 'e91c3177-2293-4d4b-a3ca-aa442c531c93', 3, '2026-01-13 10:30:00+00', '\xab3f19c8faa0fe243e8160ef7d28ebb08bf784b8cf38f35933baa0fb94ad6d1b11b7dcdd278a2893bd40f7b97f82e52257a5d8579e7d28bd85601e7f');
INSERT INTO public.key_versions OVERRIDING SYSTEM VALUE VALUES ('key-cgkkdqutm7mlwqjvcsn6wn4n', 'faffd44e-2247-4e32-98f0-a70abe5b9633', 4, '2026-01-13 10:31:00+00', '\xde6aad5f4b15c601f88353b09d8ecdd0c73255445a673a9c754b93b0f442074bf74c05a1207f4326970d44a72720250d1ac8a8454253d753e6942fba');
INSERT INTO public.key_versions OVERRIDING SYSTEM VALUE VALUES ('key-nfhhxxkqbiar47j3orahcki4', '463dc831-bd0c-4c9c-8c1b-37252522d365', 5, '2026-01-13 10:32:00+00', '\x5040b2d281b1fbff6110febde1db44aeceb2497e658676a0a87c09c1dfacaa57b2c09ea74bdbc0aa5eddbdeba948e35ab88b65e6ad08de0c288ce692');
INSERT INTO public.key_versions OVERRIDING SYSTEM VALUE VALUES ('key-q4eagssasojpdgvknz7iaqql', '9591b2f8-1b41-48ff-af92-946d95617e1e', 6, '2026-01-13 10:33:00+00', '\x2f173340eda51a6da316b2b533fe7156f647c1d8cdca7856a6467cbd15bf07f85c5e233ca2c37533240a7c28bf4bcfaf487f477b93fbbc6658a53266');


--
-- Data for Name: keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.keys VALUES ('key-odcefop26nmxly2wnfub2soi', 'rotated by hand and by schedule', 'Aliyun_AES_256', 'ENCRYPT/DECRYPT', 'Aliyun_KMS', 'SOFTWARE', '1234567890123456', 'Enabled', '2026-01-05 09:30:00+00', NULL, 'e91c3177-2293-4d4b-a3ca-aa442c531c93', true, 604800000000000, '2026-01-13 10:30:00+00', 3);
INSERT INTO public.keys VALUES ('key-cgkkdqutm7mlwqjvcsn6wn4n', 'never rotated', 'Aliyun_AES_256', 'ENCRYPT/DECRYPT', 'Aliyun_KMS', 'SOFTWARE', '1234567890123456', 'Enabled', '2026-01-13 10:31:00+00', NULL, 'faffd44e-2247-4e32-98f0-a70abe5b9633', false, 0, '2026-01-13 10:31:00+00', 1);
INSERT INTO public.keys VALUES ('key-nfhhxxkqbiar47j3orahcki4', 'disabled', 'Aliyun_AES_256', 'ENCRYPT/DECRYPT', 'Aliyun_KMS', 'SOFTWARE', '1234567890123456', 'Disabled', '2026-01-13 10:32:00+00', NULL, '463dc831-bd0c-4c9c-8c1b-37252522d365', false, 0, '2026-01-13 10:32:00+00', 2);
INSERT INTO public.keys VALUES ('key-q4eagssasojpdgvknz7iaqql', 'pending deletion', 'Aliyun_AES_256', 'ENCRYPT/DECRYPT', 'Aliyun_KMS', 'SOFTWARE', '1234567890123456', 'PendingDeletion', '2026-01-13 10:33:00+00', '2026-02-12 10:33:00+00', '9591b2f8-1b41-48ff-af92-946d95617e1e', false, 0, '2026-01-13 10:33:00+00', 2);


--
-- Data for Name: partitions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.partitions VALUES ('tenant-acme.p-0001', 'key-odcefop26nmxly2wnfub2soi', 'e91c3177-2293-4d4b-a3ca-aa442c531c93', '\x011c6b65792d6f646365666f7032366e6d786c7932776e66756232736f692465393163333137372d323239332d346434622d613363612d616134343263353331633933578c30493c86d3b8aa58f4fba11789a050ad52ae54cef6cc1d00ef79a135412563814c1506dfec778245bc4149a17391dbd8268849453c14e8010a73', '{"PartitionId":"tenant-acme.p-0001","tenant":"acme"}', '2026-01-13 10:33:00+00');
INSERT INTO public.partitions VALUES ('tenant-acme/p-0002', 'key-odcefop26nmxly2wnfub2soi', 'e91c3177-2293-4d4b-a3ca-aa442c531c93', '\x011c6b65792d6f646365666f7032366e6d786c7932776e66756232736f692465393163333137372d323239332d346434622d613363612d61613434326335333163393385c889e062e68faacc31aab0b692bdfcc38f3b6c320fe9fa426cbd521fc45dc5aedcfadcfb803838e0fa1e161585fdb6069cc94aeab65472d70c167e', '{"PartitionId":"tenant-acme/p-0002","tenant":"acme"}', '2026-01-13 10:33:00+00');


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, '0001_init.sql', '2026-11-30 04:32:00.509669+00');


--
-- Name: key_versions_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.key_versions_seq_seq', 6, true);


--
-- Name: aliases aliases_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.aliases
    ADD CONSTRAINT aliases_pkey PRIMARY KEY (name);


--
-- Name: key_versions key_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.key_versions
    ADD CONSTRAINT key_versions_pkey PRIMARY KEY (key_id, version_id);


--
-- Name: keys keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.keys
    ADD CONSTRAINT keys_pkey PRIMARY KEY (id);


--
-- Name: partitions partitions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.partitions
    ADD CONSTRAINT partitions_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: aliases_by_key; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX aliases_by_key ON public.aliases USING btree (key_id, name);


--
-- Name: key_versions_by_creation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX key_versions_by_creation ON public.key_versions USING btree (key_id, created_at, seq);


--
-- Name: keys_by_creation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX keys_by_creation ON public.keys USING btree (created_at, id);


--
-- Name: aliases aliases_key_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.aliases
    ADD CONSTRAINT aliases_key_id_fkey FOREIGN KEY (key_id) REFERENCES public.keys(id) ON DELETE CASCADE;


--
-- Name: key_versions key_versions_key_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.key_versions
    ADD CONSTRAINT key_versions_key_id_fkey FOREIGN KEY (key_id) REFERENCES public.keys(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict dP3phk0CZLWUEAcJyHV3ADtVkcnDSEWhHdphXemjTJZrp7CqZUaBL4ifUaekvBs

